import { useCallback, useEffect, useMemo, useState } from "react";
import { api, ApiError, SegmentList, SegmentRow } from "../api";

type SortKey = "name" | "size" | "as_of" | "status";

const COLUMNS: { key: SortKey; label: string }[] = [
  { key: "name", label: "Segment" },
  { key: "size", label: "Size" },
  { key: "as_of", label: "Last refresh" },
  { key: "status", label: "State" },
];

function sortValue(row: SegmentRow, key: SortKey): string | number {
  switch (key) {
    case "name":
      return row.name;
    case "size":
      return row.state.size ?? -1;
    case "as_of":
      return row.state.as_of ?? "";
    case "status":
      return row.state.status;
  }
}

function when(iso: string | null): string {
  return iso ? iso.replace("T", " ").replace(/(\.\d+)?(\+00:00|Z)$/, " UTC") : "never";
}

/** Every saved segment with its size and last refresh; filter, sort, refresh, retire. */
export function Segments() {
  const [list, setList] = useState<SegmentList | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [filter, setFilter] = useState("");
  const [sort, setSort] = useState<{ key: SortKey; up: boolean }>({ key: "name", up: true });
  const [busy, setBusy] = useState(false);

  const load = useCallback(async () => {
    try {
      setList(await api.get<SegmentList>("/v1/segments"));
      setError(null);
    } catch (e) {
      setError(e instanceof ApiError ? e.message : String(e));
    }
  }, []);

  useEffect(() => {
    void load();
  }, [load]);

  const rows = useMemo(() => {
    const text = filter.trim().toLowerCase();
    const found = (list?.segments ?? []).filter(
      (r) =>
        !text ||
        r.name.toLowerCase().includes(text) ||
        (r.title ?? "").toLowerCase().includes(text) ||
        (r.campaign ?? "").toLowerCase().includes(text),
    );
    const sign = sort.up ? 1 : -1;
    return [...found].sort((a, b) => {
      const x = sortValue(a, sort.key);
      const y = sortValue(b, sort.key);
      return x < y ? -sign : x > y ? sign : a.name.localeCompare(b.name);
    });
  }, [list, filter, sort]);

  async function act(what: () => Promise<unknown>) {
    setBusy(true);
    try {
      await what();
      await load();
    } catch (e) {
      setError(e instanceof ApiError ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  }

  return (
    <section aria-labelledby="segments-title">
      <div className="bar">
        <h1 id="segments-title">Segments</h1>
        <button type="button" disabled={busy} onClick={() => act(() => api.post("/v1/refresh"))}>
          {busy ? "Working…" : "Refresh all"}
        </button>
      </div>
      <label htmlFor="segment-filter">Filter</label>
      <input
        id="segment-filter"
        type="search"
        placeholder="name, title or campaign"
        value={filter}
        onChange={(e) => setFilter(e.target.value)}
      />
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      {list === null && !error ? (
        <p>Loading…</p>
      ) : (
        <div className="scroll">
          <table>
            <caption className="hint">
              {rows.length} of {list?.segments.length ?? 0} segments
            </caption>
            <thead>
              <tr>
                {COLUMNS.map((c) => (
                  <th
                    key={c.key}
                    scope="col"
                    aria-sort={
                      sort.key === c.key ? (sort.up ? "ascending" : "descending") : undefined
                    }
                  >
                    <button
                      type="button"
                      className="link"
                      onClick={() =>
                        setSort({ key: c.key, up: sort.key === c.key ? !sort.up : true })
                      }
                    >
                      {c.label}
                    </button>
                  </th>
                ))}
                <th scope="col">Kind</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {rows.map((r) => (
                <tr key={r.name}>
                  <th scope="row">
                    <span className="name">{r.name}</span>
                    {r.title && <span className="hint"> {r.title}</span>}
                  </th>
                  <td className="num">{r.state.size === null ? "–" : r.state.size.toLocaleString()}</td>
                  <td>{when(r.state.as_of)}</td>
                  <td>
                    <span className={`state ${r.state.status}`}>{r.state.status}</span>
                    {r.state.error && <span className="hint"> {r.state.error}</span>}
                    {r.error && <span className="error"> {r.error}</span>}
                  </td>
                  <td>{r.live ? "live" : "scheduled"}</td>
                  <td>
                    {r.state.status !== "retired" && (
                      <button
                        type="button"
                        className="small"
                        disabled={busy}
                        aria-label={`Retire ${r.name}`}
                        onClick={() =>
                          act(() => api.post(`/v1/segments/${encodeURIComponent(r.name)}/retire`))
                        }
                      >
                        Retire
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
