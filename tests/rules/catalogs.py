"""A fixed catalog for tests that need no store (validation, compile snapshots)."""

from __future__ import annotations

from segmint.rules.catalog import AttributeInfo, Catalog, trait_attributes
from segmint.rules.text import parse
from segmint.store.schema import BUILTIN_ATTRIBUTES

CUSTOM = {
    "device_os": "string",
    "interests": "list",
    "loyalty_points": "integer",
    "score": "float",
    "vip": "bool",
    "last_login_at": "timestamp",
    "Plan Name": "string",
}


def shop_catalog(segments: dict[str, str] | None = None) -> Catalog:
    attributes = {name: AttributeInfo(name, kind) for name, kind in BUILTIN_ATTRIBUTES.items()}
    for i, (name, kind) in enumerate(CUSTOM.items()):
        attributes[name] = AttributeInfo(f"x_attr_{i}", kind)
    attributes.update(trait_attributes())
    return Catalog(
        attributes=attributes,
        events=frozenset({"order_completed", "app_open", "email_opened", "product_view"}),
        properties={"category": "string", "items": "integer", "price": "float", "tags": "list"},
        usage={
            "order_completed": frozenset({"category", "items", "tags"}),
            "product_view": frozenset({"category", "price"}),
        },
        segments={name: parse(text) for name, text in (segments or {}).items()},
    )
