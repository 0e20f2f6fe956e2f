// The rule tree of DESIGN section 4 as the builder edits it: plain JSON objects in the
// canonical form the API reads and answers (`GET /v1/rules/check`).

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type Node = { [key: string]: Json };

export interface Attribute {
  name: string;
  type: string;
  trait: boolean;
}
export interface Property {
  name: string;
  type: string;
  events: string[];
}
export interface Catalog {
  attributes: Attribute[];
  events: string[];
  properties: Property[];
}

export const OPS_BY_TYPE: Record<string, string[]> = {
  string: ["eq", "ne", "in", "not_in", "contains", "not_contains", "starts_with", "ends_with", "is_set", "is_not_set"],
  integer: ["eq", "ne", "lt", "le", "gt", "ge", "between", "in", "is_set", "is_not_set"],
  float: ["eq", "ne", "lt", "le", "gt", "ge", "between", "is_set", "is_not_set"],
  bool: ["eq", "ne", "is_set", "is_not_set"],
  date: ["before", "after", "within_last_days", "more_than_days_ago", "is_set", "is_not_set"],
  timestamp: ["before", "after", "within_last_days", "more_than_days_ago", "is_set", "is_not_set"],
  list: ["contains", "not_contains", "is_set", "is_not_set"],
};
export const NUMBER_OPS = ["eq", "ne", "lt", "le", "gt", "ge", "between"];
export const OP_LABELS: Record<string, string> = {
  eq: "=", ne: "≠", lt: "<", le: "≤", gt: ">", ge: "≥", between: "between", in: "in",
  not_in: "not in", contains: "contains", not_contains: "does not contain",
  starts_with: "starts with", ends_with: "ends with", is_set: "is set",
  is_not_set: "is not set", within_last_days: "within last (days)",
  more_than_days_ago: "more than (days) ago", before: "before", after: "after",
};
export const MEASURES = ["count", "sum", "avg", "min", "max", "distinct", "last_seen", "first_seen"];
export const AGGREGATES = ["sum", "avg", "min", "max", "distinct"];

export function kindOf(node: Node): "and" | "or" | "not" | "attr" | "event" | "trend" | "segment" {
  if ("and" in node) return "and";
  if ("or" in node) return "or";
  if ("not" in node) return "not";
  if ("attr" in node) return "attr";
  if ("trend" in node) return "trend";
  if ("segment" in node) return "segment";
  return "event";
}

export function newCondition(catalog: Catalog): Node {
  const first = catalog.attributes.find((a) => a.name === "country") ?? catalog.attributes[0];
  return { attr: first?.name ?? "customer_id", op: "eq", value: "" };
}

export function newEvent(catalog: Catalog): Node {
  return { event: catalog.events[0] ?? "" };
}

/** The value an operator takes, from what was typed, for a value of `type`. */
export function parseValue(type: string, op: string, text: string): Json {
  const one = (t: string): Json => {
    if (type === "integer") return Number.isFinite(Number(t)) && t.trim() !== "" ? Math.trunc(Number(t)) : t;
    if (type === "float") return Number.isFinite(Number(t)) && t.trim() !== "" ? Number(t) : t;
    if (type === "bool") return t === "true" ? true : t === "false" ? false : t;
    return t;
  };
  if (op === "within_last_days" || op === "more_than_days_ago") return Number(text) || 0;
  if (op === "in" || op === "not_in") return text.split(",").map((v) => one(v.trim())).filter((v) => v !== "");
  if (op === "between") return text.split(",").slice(0, 2).map((v) => one(v.trim()));
  return one(text);
}

export function showValue(value: Json | undefined): string {
  if (value === undefined || value === null) return "";
  if (Array.isArray(value)) return value.map((v) => String(v)).join(", ");
  return String(value);
}

export function takesValue(op: string): boolean {
  return op !== "is_set" && op !== "is_not_set";
}
