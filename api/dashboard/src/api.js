// api.js — the dashboard's only way to the server: JSON requests to /v1 with the
// bearer token, RFC 9457 problems turned into errors, and the token prompt on 401.
//
// URLs are relative to the page (new URL('v1/…', document.baseURI)), so the
// dashboard also works behind a reverse proxy that mounts the server under a prefix.

const TOKEN_KEY = 'vigy.token';

/** The token kept for this browser tab (sessionStorage), or null. */
export function token() {
  try {
    return sessionStorage.getItem(TOKEN_KEY);
  } catch {
    return null;
  }
}

export function setToken(t) {
  if (t) sessionStorage.setItem(TOKEN_KEY, t);
  else sessionStorage.removeItem(TOKEN_KEY);
  tokenListeners.forEach((f) => f(t));
}

const tokenListeners = new Set();
/** Calls f(token) whenever the token changes. */
export function onTokenChange(f) {
  tokenListeners.add(f);
}

/** An error answered by the server (problem+json) or by the network. */
export class ApiError extends Error {
  constructor(status, code, detail, problem) {
    super(detail);
    this.status = status;
    this.code = code;
    this.problem = problem;
  }
}

// The token prompt is installed by the app (ui: a <dialog>). It returns a promise of
// the new token; concurrent 401s share one prompt.
let prompter = null;
let pendingPrompt = null;
export function setTokenPrompter(f) {
  prompter = f;
}

/**
 * Asks for a token after a 401 (`invalid` when one was sent and refused) and resolves
 * once one is entered. Every request that got the 401 waits on the same prompt.
 */
export function needToken(invalid) {
  if (!pendingPrompt) {
    pendingPrompt = prompter(invalid).then((t) => {
      pendingPrompt = null;
      setToken(t);
      return t;
    });
  }
  return pendingPrompt;
}

export function apiUrl(path) {
  return new URL(path.replace(/^\//, ''), document.baseURI).href;
}

/** Request headers: Accept plus the bearer token when one is kept. */
export function authHeaders(extra = {}) {
  const h = { ...extra };
  const t = token();
  if (t) h.Authorization = `Bearer ${t}`;
  return h;
}

async function problemOf(res) {
  let body = null;
  const type = res.headers.get('content-type') || '';
  try {
    body = type.includes('json') ? await res.json() : { detail: (await res.text()).slice(0, 500) };
  } catch {
    body = null;
  }
  const detail = (body && (body.detail || body.title || body.error)) || `${res.status} ${res.statusText}`;
  return new ApiError(res.status, body && body.code, detail, body);
}

/**
 * request('GET', 'v1/vigies') -> parsed JSON (null for 204). A 401 prompts for the
 * token and retries; any other error status throws ApiError with the problem's detail.
 */
export async function request(method, path, { body, signal } = {}) {
  for (;;) {
    const sentToken = token();
    const headers = authHeaders({ Accept: 'application/json' });
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    let res;
    try {
      res = await fetch(apiUrl(path), {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal,
        cache: 'no-store',
        credentials: 'omit',
      });
    } catch (e) {
      if (e.name === 'AbortError') throw e;
      throw new ApiError(0, 'unavailable', `cannot reach the server: ${e.message}`);
    }
    if (res.status === 401) {
      await needToken(sentToken !== null);
      continue;
    }
    if (!res.ok) throw await problemOf(res);
    if (res.status === 204) return null;
    return res.json();
  }
}

export { problemOf };

/** Percent-encodes a vigy name as one path segment (a `/` in a name is %2F). */
export function seg(name) {
  return encodeURIComponent(name);
}
