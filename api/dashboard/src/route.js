// route.js — the hash routes: #/ (the overview, its filters in the query) and
// #/vigies/NAME (one vigy; ?line=N highlights a source line, ?run=ID opens a run).

/** The current route: {view: 'overview'|'vigy', name?, params: URLSearchParams}. */
export function route() {
  const raw = location.hash.replace(/^#/, '') || '/';
  const [path, query = ''] = raw.split('?');
  const params = new URLSearchParams(query);
  const m = path.match(/^\/vigies\/(.+)$/);
  if (m) {
    let name;
    try {
      name = decodeURIComponent(m[1]);
    } catch {
      name = m[1];
    }
    return { view: 'vigy', name, params };
  }
  return { view: 'overview', params };
}

/** The hash of a vigy's page. */
export function vigyHref(name, params) {
  const q = params ? `?${new URLSearchParams(params)}` : '';
  return `#/vigies/${encodeURIComponent(name)}${q}`;
}

/** Replaces the hash's query without a new history entry or a re-render. */
export function replaceParams(params) {
  const raw = location.hash.replace(/^#/, '') || '/';
  const path = raw.split('?')[0];
  const q = new URLSearchParams(params).toString();
  history.replaceState(null, '', `#${path}${q ? `?${q}` : ''}`);
}

