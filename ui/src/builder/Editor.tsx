import { ReactElement, useEffect, useId, useState } from "react";
import { api } from "../api";
import {
  AGGREGATES,
  Catalog,
  Json,
  kindOf,
  MEASURES,
  newCondition,
  newEvent,
  Node,
  NUMBER_OPS,
  OP_LABELS,
  OPS_BY_TYPE,
  parseValue,
  showValue,
  takesValue,
} from "./rules";

export interface EditorProps {
  node: Node;
  path: string;
  catalog: Catalog;
  segments: string[];
  error: { location: string | null; message: string } | null;
  onChange: (node: Node) => void;
  onRemove?: () => void;
}

/** The error of the API's check, shown at the node it names (the deepest one whose path
 * starts its location). */
function NodeError({ error, path, childPaths }: { error: EditorProps["error"]; path: string; childPaths: string[] }) {
  if (!error?.location || !error.location.startsWith(path)) return null;
  if (childPaths.some((c) => error.location!.startsWith(c))) return null;
  return (
    <p className="error" role="alert">
      {error.message}
    </p>
  );
}

function Select({ label, value, options, onChange, labels }: {
  label: string; value: string; options: string[]; onChange: (v: string) => void;
  labels?: Record<string, string>;
}) {
  const id = useId();
  return (
    <span className="field">
      <label htmlFor={id}>{label}</label>
      <select id={id} value={value} onChange={(e) => onChange(e.target.value)}>
        {!options.includes(value) && <option value={value}>{value || "—"}</option>}
        {options.map((o) => (
          <option key={o} value={o}>
            {labels?.[o] ?? o}
          </option>
        ))}
      </select>
    </span>
  );
}

function TextField({ label, value, onChange, type = "text", suggestions }: {
  label: string; value: string; onChange: (v: string) => void; type?: string; suggestions?: string[];
}) {
  const id = useId();
  const [text, setText] = useState(value);
  useEffect(() => setText(value), [value]);
  return (
    <span className="field">
      <label htmlFor={id}>{label}</label>
      <input
        id={id}
        type={type}
        value={text}
        list={suggestions?.length ? `${id}-list` : undefined}
        onChange={(e) => {
          setText(e.target.value);
          onChange(e.target.value);
        }}
      />
      {suggestions?.length ? (
        <datalist id={`${id}-list`}>
          {suggestions.map((s) => (
            <option key={s} value={s} />
          ))}
        </datalist>
      ) : null}
    </span>
  );
}

/** Known values of a text attribute or property (`GET /v1/catalog/values`). */
function useSuggestions(name: string, type: string | undefined): string[] {
  const [values, setValues] = useState<string[]>([]);
  useEffect(() => {
    if (type !== "string" || !name) return setValues([]);
    let live = true;
    api
      .get<{ values: { value: string }[] }>("/v1/catalog/values", { name, limit: "50" })
      .then((r) => live && setValues(r.values.map((v) => String(v.value))))
      .catch(() => live && setValues([]));
    return () => {
      live = false;
    };
  }, [name, type]);
  return values;
}

function Comparison({ label, type, op, value, name, onChange }: {
  label: string; type: string; op: string; value: Json | undefined; name: string;
  onChange: (op: string, value: Json | undefined) => void;
}) {
  const ops = OPS_BY_TYPE[type] ?? OPS_BY_TYPE.string;
  const suggestions = useSuggestions(name, type);
  return (
    <>
      <Select
        label={`${label} operator`}
        value={op}
        options={ops}
        labels={OP_LABELS}
        onChange={(o) => onChange(o, takesValue(o) ? value ?? "" : undefined)}
      />
      {takesValue(op) && (
        <TextField
          label={`${label} value`}
          value={showValue(value)}
          suggestions={suggestions}
          onChange={(t) => onChange(op, parseValue(type, op, t))}
        />
      )}
    </>
  );
}

function AttributeEditor({ node, catalog, onChange }: EditorProps) {
  const attr = String(node.attr ?? "");
  const type = catalog.attributes.find((a) => a.name === attr)?.type ?? "string";
  return (
    <>
      <Select
        label="Attribute"
        value={attr}
        options={catalog.attributes.map((a) => a.name)}
        onChange={(a) => {
          const t = catalog.attributes.find((x) => x.name === a)?.type ?? "string";
          const op = (OPS_BY_TYPE[t] ?? ["eq"])[0];
          onChange(takesValue(op) ? { attr: a, op, value: "" } : { attr: a, op });
        }}
      />
      <Comparison
        label="Attribute"
        type={type}
        op={String(node.op ?? "eq")}
        value={node.value as Json}
        name={attr}
        onChange={(op, value) => {
          const next: Node = { attr, op };
          if (value !== undefined) next.value = value;
          onChange(next);
        }}
      />
    </>
  );
}

const WINDOWS = ["all time", "last N days", "from A to B days ago", "between dates"];

function windowKind(window: Json | undefined): string {
  if (!window || typeof window !== "object" || Array.isArray(window)) return "all time";
  if ("last_days" in window) return "last N days";
  if ("days_ago" in window) return "from A to B days ago";
  return "between dates";
}

function WindowEditor({ window, onChange }: { window: Json | undefined; onChange: (w: Json | undefined) => void }) {
  const kind = windowKind(window);
  const w = (window ?? {}) as Record<string, Json>;
  return (
    <>
      <Select
        label="Window"
        value={kind}
        options={WINDOWS}
        onChange={(k) =>
          onChange(
            k === "last N days" ? { last_days: 30 }
              : k === "from A to B days ago" ? { days_ago: [60, 30] }
              : k === "between dates" ? { between: ["2026-01-01", "2026-02-01"] }
              : undefined,
          )
        }
      />
      {kind === "last N days" && (
        <TextField label="Days" type="number" value={showValue(w.last_days)}
          onChange={(t) => onChange({ last_days: Number(t) })} />
      )}
      {kind === "from A to B days ago" && (
        <>
          <TextField label="From (days ago)" type="number" value={showValue((w.days_ago as Json[])?.[0])}
            onChange={(t) => onChange({ days_ago: [Number(t), (w.days_ago as number[])[1]] })} />
          <TextField label="To (days ago)" type="number" value={showValue((w.days_ago as Json[])?.[1])}
            onChange={(t) => onChange({ days_ago: [(w.days_ago as number[])[0], Number(t)] })} />
        </>
      )}
      {kind === "between dates" && (
        <>
          <TextField label="From date" type="date" value={showValue((w.between as Json[])?.[0])}
            onChange={(t) => onChange({ between: [t, (w.between as string[])[1]] })} />
          <TextField label="Until date" type="date" value={showValue((w.between as Json[])?.[1])}
            onChange={(t) => onChange({ between: [(w.between as string[])[0], t] })} />
        </>
      )}
    </>
  );
}

function measureOf(node: Node): string {
  for (const m of [...AGGREGATES, "last_seen", "first_seen"]) if (m in node) return m;
  return "count";
}

function EventEditor({ node, catalog, onChange }: EditorProps) {
  const event = String(node.event ?? "");
  const measure = measureOf(node);
  const where = (node.where as Node[] | undefined) ?? [];
  const props = catalog.properties.filter((p) => p.events.includes(event));
  const base = (): Node => {
    const next: Node = { event };
    if (where.length) next.where = where;
    if (node.window !== undefined && !measure.endsWith("_seen")) next.window = node.window;
    return next;
  };
  const setMeasure = (m: string) => {
    const next = base();
    if (m.endsWith("_seen")) {
      delete next.window;
      next[m] = { op: "le", days: 30 };
    } else if (m !== "count") {
      next[m] = { prop: props.find((p) => p.type !== "string")?.name ?? "revenue", op: "gt", value: 0 };
    }
    onChange(next);
  };
  const detail = (node[measure] ?? node.count ?? {}) as Record<string, Json>;
  return (
    <>
      <Select label="Event" value={event} options={catalog.events}
        onChange={(e) => onChange({ event: e })} />
      <Select label="Measure" value={measure} options={MEASURES} onChange={setMeasure} />
      {measure === "count" && (
        <Comparison label="Times" type="integer" op={String(detail.op ?? "ge")}
          value={(detail.value as Json) ?? 1} name=""
          onChange={(op, value) => onChange({ ...base(), count: { op, value: value ?? 1 } })} />
      )}
      {AGGREGATES.includes(measure) && (
        <>
          <Select label="Of property" value={String(detail.prop ?? "")}
            options={[...props.map((p) => p.name), "revenue"].filter((v, i, a) => a.indexOf(v) === i)}
            onChange={(prop) => onChange({ ...base(), [measure]: { ...detail, prop } })} />
          <Select label="Aggregate operator" value={String(detail.op ?? "gt")} options={NUMBER_OPS}
            labels={OP_LABELS} onChange={(op) => onChange({ ...base(), [measure]: { ...detail, op } })} />
          <TextField label="Aggregate value" value={showValue(detail.value)}
            onChange={(t) => onChange({ ...base(), [measure]: { ...detail, value: parseValue("float", String(detail.op ?? "gt"), t) } })} />
        </>
      )}
      {measure.endsWith("_seen") && (
        <>
          <Select label="Days since" value={String(detail.op ?? "le")}
            options={["eq", "ne", "lt", "le", "gt", "ge"]} labels={OP_LABELS}
            onChange={(op) => onChange({ ...base(), [measure]: { ...detail, op } })} />
          <TextField label="Days" type="number" value={showValue(detail.days)}
            onChange={(t) => onChange({ ...base(), [measure]: { ...detail, days: Number(t) } })} />
        </>
      )}
      {!measure.endsWith("_seen") && (
        <WindowEditor window={node.window} onChange={(w) => {
          const next: Node = { ...node };
          if (w === undefined) delete next.window; else next.window = w;
          onChange(next);
        }} />
      )}
      <fieldset className="where">
        <legend>Where</legend>
        {where.map((cond, i) => {
          const prop = String(cond.prop ?? "");
          const type = props.find((p) => p.name === prop)?.type ?? "string";
          const set = (c: Node | null) => {
            const list = where.flatMap((w, j) => (j === i ? (c ? [c] : []) : [w]));
            const next: Node = { ...node };
            if (list.length) next.where = list; else delete next.where;
            onChange(next);
          };
          return (
            <div className="row" key={i}>
              <Select label="Property" value={prop} options={props.map((p) => p.name)}
                onChange={(p) => set({ prop: p, op: "eq", value: "" })} />
              <Comparison label="Property" type={type} op={String(cond.op ?? "eq")}
                value={cond.value as Json} name={prop}
                onChange={(op, value) => set(value === undefined ? { prop, op } : { prop, op, value })} />
              <button type="button" className="small" onClick={() => set(null)}>
                Remove filter
              </button>
            </div>
          );
        })}
        <button type="button" className="small"
          onClick={() => onChange({ ...node, where: [...where, { prop: props[0]?.name ?? "", op: "eq", value: "" }] })}>
          Add filter
        </button>
      </fieldset>
    </>
  );
}

function TrendEditor({ node, catalog, onChange }: EditorProps) {
  const change = (node.change ?? { op: "ge", value: 0.5 }) as Record<string, Json>;
  return (
    <>
      <Select label="Trend of event" value={String(node.trend ?? "")} options={catalog.events}
        onChange={(e) => onChange({ ...node, trend: e })} />
      <TextField label="Over days" type="number" value={showValue(node.days)}
        onChange={(t) => onChange({ ...node, days: Number(t) })} />
      <Comparison label="Change" type="float" op={String(change.op)} value={change.value} name=""
        onChange={(op, value) => onChange({ ...node, change: { op, value: value ?? 0 } })} />
    </>
  );
}

const KINDS = ["attribute", "event", "trend", "segment"];

function kindLabel(node: Node): string {
  const k = kindOf(node);
  return k === "attr" ? "attribute" : k;
}

/** One node of the tree: a group (and/or), a negation, or a condition. */
export function RuleEditor(props: EditorProps) {
  const { node, path, catalog, segments, onChange, onRemove, error } = props;
  const kind = kindOf(node);
  if (kind === "and" || kind === "or") {
    const items = node[kind] as Node[];
    const childPaths = items.map((_, i) => `${path}.${kind}[${i}]`);
    return (
      <fieldset className={`group ${kind}`}>
        <legend>
          <Select label="Match" value={kind} options={["and", "or"]}
            labels={{ and: "all of (AND)", or: "any of (OR)" }}
            onChange={(k) => onChange({ [k]: items })} />
        </legend>
        <NodeError error={error} path={path} childPaths={childPaths} />
        {items.map((item, i) => (
          <RuleEditor
            key={i}
            {...props}
            node={item}
            path={childPaths[i]}
            onChange={(n) => onChange({ [kind]: items.map((x, j) => (j === i ? n : x)) })}
            onRemove={() => {
              const rest = items.filter((_, j) => j !== i);
              onChange(rest.length ? { [kind]: rest } : newCondition(catalog));
            }}
          />
        ))}
        <div className="row">
          <button type="button" className="small" onClick={() => onChange({ [kind]: [...items, newCondition(catalog)] })}>
            Add condition
          </button>
          <button type="button" className="small"
            onClick={() => onChange({ [kind]: [...items, { [kind === "and" ? "or" : "and"]: [newCondition(catalog)] }] })}>
            Add group
          </button>
          {onRemove && (
            <button type="button" className="small" onClick={onRemove}>
              Remove group
            </button>
          )}
        </div>
      </fieldset>
    );
  }
  if (kind === "not") {
    const inner = node.not as Node;
    return (
      <div className="not">
        <span className="tag">NOT</span>
        <RuleEditor {...props} node={inner} path={`${path}.not`} onChange={(n) => onChange({ not: n })}
          onRemove={onRemove} />
        <button type="button" className="small" onClick={() => onChange(inner)}>
          Remove NOT
        </button>
      </div>
    );
  }
  const editors: Record<string, (p: EditorProps) => ReactElement> = {
    attr: AttributeEditor,
    event: EventEditor,
    trend: TrendEditor,
    segment: ({ node: n, onChange: set }) => (
      <Select label="Segment" value={String(n.segment ?? "")} options={segments}
        onChange={(s) => set({ segment: s })} />
    ),
  };
  const Body = editors[kind];
  return (
    <div className="condition" data-path={path}>
      <div className="row">
        <Select label="Condition on" value={kindLabel(node)} options={KINDS}
          onChange={(k) =>
            onChange(
              k === "attribute" ? newCondition(catalog)
                : k === "event" ? newEvent(catalog)
                : k === "trend" ? { trend: catalog.events[0] ?? "", days: 30, change: { op: "ge", value: 0.5 } }
                : { segment: segments[0] ?? "" },
            )
          } />
        <Body {...props} />
      </div>
      <NodeError error={error} path={path} childPaths={[]} />
      <div className="row">
        <button type="button" className="small" onClick={() => onChange({ not: node })}>
          Negate (NOT)
        </button>
        {onRemove && (
          <button type="button" className="small" onClick={onRemove}>
            Remove condition
          </button>
        )}
      </div>
    </div>
  );
}
