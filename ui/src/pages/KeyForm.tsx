import { FormEvent, useState } from "react";
import { api, ApiError, forgetKey, saveKey } from "../api";

// The API key of `segmint keys create NAME --scope read|write|admin`: checked against the
// API once, then kept for this tab only.
export function KeyForm({ onKey }: { onKey: () => void }) {
  const [key, setKey] = useState("");
  const [error, setError] = useState<string | null>(null);

  async function submit(event: FormEvent) {
    event.preventDefault();
    saveKey(key.trim());
    try {
      await api.get("/v1/segments");
      onKey();
    } catch (e) {
      forgetKey();
      setError(e instanceof ApiError ? e.message : String(e));
    }
  }

  return (
    <main className="narrow">
      <h1>segmint</h1>
      <form onSubmit={submit}>
        <label htmlFor="api-key">API key</label>
        <input
          id="api-key"
          type="password"
          autoComplete="off"
          value={key}
          onChange={(e) => setKey(e.target.value)}
          required
        />
        <p className="hint">
          Make one with <code>segmint keys create NAME --scope write</code>; it is kept for this
          tab only.
        </p>
        {error && (
          <p role="alert" className="error">
            {error}
          </p>
        )}
        <button type="submit">Open</button>
      </form>
    </main>
  );
}
