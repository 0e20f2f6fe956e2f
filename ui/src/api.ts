// The only way the UI reaches segmint: the REST API of `segmint serve` (docs/server.md).
// The API key lives in sessionStorage (gone when the tab closes) and travels in the
// Authorization header, never in a URL.

const KEY = "segmint.key";

export function storedKey(): string | null {
  return sessionStorage.getItem(KEY);
}

export function saveKey(key: string): void {
  sessionStorage.setItem(KEY, key);
}

export function forgetKey(): void {
  sessionStorage.removeItem(KEY);
}

/** An error answer of the API: `{error, message, location}` (or Segment's `{code, message}`). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly location: string | null = null,
  ) {
    super(message);
  }
}

async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { Accept: "application/json" };
  const key = storedKey();
  if (key) headers.Authorization = `Bearer ${key}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const answer = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await answer.text();
  const data = text ? JSON.parse(text) : null;
  if (!answer.ok) {
    const message = (data && (data.message ?? data.detail)) || answer.statusText;
    throw new ApiError(answer.status, String(message), data?.location ?? null);
  }
  return data as T;
}

export const api = {
  get: <T,>(path: string, params?: Record<string, string | undefined>) => {
    const query = new URLSearchParams();
    for (const [k, v] of Object.entries(params ?? {})) if (v !== undefined) query.set(k, v);
    const tail = query.toString();
    return request<T>("GET", tail ? `${path}?${tail}` : path);
  },
  post: <T,>(path: string, body?: unknown) => request<T>("POST", path, body ?? {}),
  put: <T,>(path: string, body: unknown) => request<T>("PUT", path, body),
  delete: <T,>(path: string) => request<T>("DELETE", path),
};

export interface SegmentState {
  status: "ok" | "failed" | "never" | "retired";
  size: number | null;
  as_of: string | null;
  error: string | null;
}

export interface SegmentRow {
  name: string;
  title?: string;
  description?: string;
  campaign?: string;
  live?: boolean;
  error?: string;
  rule?: unknown;
  state: SegmentState;
}

export interface SegmentList {
  segments: SegmentRow[];
  as_of: string | null;
}
