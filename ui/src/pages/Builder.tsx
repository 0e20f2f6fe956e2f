import { useEffect, useRef, useState } from "react";
import { api, ApiError, SegmentList } from "../api";
import { RuleEditor } from "../builder/Editor";
import { Catalog, kindOf, newCondition, Node } from "../builder/rules";

interface Checked {
  rule: Node;
  text: string;
}
type Problem = { location: string | null; message: string } | null;

const DEBOUNCE_MS = 150;

/** The segment builder: the visual tree and the text form kept in step through the API's
 * check (`GET /v1/rules/check`), a live count (`GET /v1/count`), a preview of members
 * (`GET /v1/members`) and save (`POST /v1/segments`). */
export function Builder() {
  const [catalog, setCatalog] = useState<Catalog | null>(null);
  const [segments, setSegments] = useState<string[]>([]);
  const [tree, setTree] = useState<Node | null>(null);
  const [text, setText] = useState("");
  const [problem, setProblem] = useState<Problem>(null);
  const [count, setCount] = useState<{ n: number; ms: number } | null>(null);
  const [preview, setPreview] = useState<Record<string, unknown>[] | null>(null);
  const [name, setName] = useState("");
  const [saveError, setSaveError] = useState<string | null>(null);
  const [view, setView] = useState<"visual" | "text">("visual");
  const timer = useRef<number | undefined>(undefined);
  const asked = useRef(0);

  useEffect(() => {
    void (async () => {
      const found = await api.get<Catalog>("/v1/catalog");
      setCatalog(found);
      setTree({ and: [newCondition(found)] });
      const listed = await api.get<SegmentList>("/v1/segments");
      setSegments(listed.segments.map((s) => s.name));
    })();
  }, []);

  // Check the rule (JSON from the visual editor, or the typed text), then count it.
  function check(rule: Node | string, from: "visual" | "text") {
    window.clearTimeout(timer.current);
    timer.current = window.setTimeout(async () => {
      const ticket = ++asked.current;
      const param = typeof rule === "string" ? rule : JSON.stringify(rule);
      try {
        const checked = await api.get<Checked>("/v1/rules/check", { rule: param });
        if (ticket !== asked.current) return;
        setProblem(null);
        if (from === "visual") setText(checked.text);
        else setTree(checked.rule);
        const started = performance.now();
        const counted = await api.get<{ count: number }>("/v1/count", {
          rule: JSON.stringify(checked.rule),
        });
        if (ticket === asked.current) setCount({ n: counted.count, ms: performance.now() - started });
      } catch (e) {
        if (ticket !== asked.current) return;
        setCount(null);
        setProblem(
          e instanceof ApiError ? { location: e.location, message: e.message } : { location: null, message: String(e) },
        );
      }
    }, DEBOUNCE_MS);
  }

  useEffect(() => {
    if (tree && view === "visual") check(tree, "visual");
    // Only the first tree: later ones are checked as they are edited.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [catalog]);

  if (!catalog || !tree) return <p>Loading…</p>;

  const editTree = (next: Node) => {
    setTree(next);
    check(next, "visual");
  };
  const root = kindOf(tree);

  async function save() {
    setSaveError(null);
    try {
      await api.post("/v1/segments", { name, rule: tree });
      window.location.hash = "#/segments";
    } catch (e) {
      setSaveError(e instanceof ApiError ? e.message : String(e));
    }
  }

  async function showPreview() {
    const page = await api.get<{ rows: Record<string, unknown>[] }>("/v1/members", {
      rule: JSON.stringify(tree),
      limit: "10",
    });
    setPreview(page.rows);
  }

  return (
    <section aria-labelledby="builder-title" className="builder">
      <div className="bar">
        <h1 id="builder-title">New segment</h1>
        <p className="count" aria-live="polite" data-testid="live-count">
          {count ? (
            <>
              <strong>{count.n.toLocaleString()}</strong> customers
              <span className="hint"> ({Math.round(count.ms)} ms)</span>
            </>
          ) : problem ? (
            "—"
          ) : (
            "counting…"
          )}
        </p>
      </div>
      <div role="tablist" aria-label="Edit as" className="row">
        {(["visual", "text"] as const).map((v) => (
          <button key={v} type="button" role="tab" aria-selected={view === v}
            className={view === v ? "" : "secondary"} onClick={() => setView(v)}>
            {v === "visual" ? "Builder" : "Text"}
          </button>
        ))}
      </div>
      {view === "visual" ? (
        <div role="tabpanel" aria-label="Builder">
          <RuleEditor node={tree} path="rule" catalog={catalog} segments={segments} error={problem}
            onChange={editTree} />
          {root !== "and" && root !== "or" && (
            <button type="button" className="small" onClick={() => editTree({ and: [tree, newCondition(catalog)] })}>
              Add condition
            </button>
          )}
        </div>
      ) : (
        <div role="tabpanel" aria-label="Text">
          <label htmlFor="rule-text">Rule</label>
          <textarea id="rule-text" rows={5} value={text} spellCheck={false}
            onChange={(e) => {
              setText(e.target.value);
              check(e.target.value, "text");
            }} />
          {problem && (
            <p className="error" role="alert">
              {problem.location ? `${problem.location}: ` : ""}
              {problem.message}
            </p>
          )}
        </div>
      )}
      <div className="row save">
        <span className="field">
          <label htmlFor="segment-name">Name</label>
          <input id="segment-name" value={name} onChange={(e) => setName(e.target.value)} placeholder="e.g. lapsed-vips" />
        </span>
        <button type="button" onClick={save} disabled={!name || problem !== null}>
          Save segment
        </button>
        <button type="button" className="secondary" onClick={showPreview} disabled={problem !== null}>
          Preview members
        </button>
      </div>
      {saveError && (
        <p className="error" role="alert">
          {saveError}
        </p>
      )}
      {preview && (
        <table aria-label="Preview">
          <thead>
            <tr>
              <th scope="col">customer_id</th>
            </tr>
          </thead>
          <tbody>
            {preview.map((r) => (
              <tr key={String(r.customer_id)}>
                <td>{String(r.customer_id)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
