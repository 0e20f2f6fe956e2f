"""Cluster-based segments: k-means on traits and attributes, each cluster profiled,
named and explained as a rule (docs/clusters.md)."""
