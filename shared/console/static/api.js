// The console's one way to reach the HTTP API: the key from sessionStorage as
// X-API-Key, the {"data"} / {"error"} envelopes of api.md unwrapped.

const keyName = 'mediatrail.apiKey';
// The page is /console/ (after any stage prefix); the API is its sibling.
const base = new URL('../api/v1', location.href).pathname;

export const apiKey = {
  get: () => sessionStorage.getItem(keyName) || '',
  set: (k) => sessionStorage.setItem(keyName, k),
  clear: () => sessionStorage.removeItem(keyName),
};

// ApiError carries the envelope's code and message (safe to show) and the status.
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

// api calls path (under /api/v1) and answers {data, meta}. query values that
// are empty are left out; body is sent as JSON. A 401 calls onUnauthorized.
export async function api(method, path, { query, body } = {}) {
  const url = new URL(base + path, location.origin);
  for (const [k, v] of Object.entries(query || {})) {
    if (v !== undefined && v !== null && v !== '') url.searchParams.set(k, v);
  }
  const headers = { 'X-API-Key': apiKey.get() };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let resp;
  try {
    resp = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch {
    throw new ApiError(0, 'network', 'The API could not be reached.');
  }
  if (resp.status === 204) return { data: null };
  let env = {};
  try {
    env = await resp.json();
  } catch {
    throw new ApiError(resp.status, 'bad_response', `The API answered ${resp.status} without JSON.`);
  }
  if (!resp.ok) {
    const e = env.error || {};
    const err = new ApiError(resp.status, e.code || 'error', e.message || `HTTP ${resp.status}`);
    if (resp.status === 401) api.onUnauthorized(err);
    throw err;
  }
  return { data: env.data, meta: env.meta };
}
api.onUnauthorized = () => {};

// signedURL answers a fresh signed URL of an asset.
export async function signedURL(id, { disposition = 'inline', expiresIn = 900 } = {}) {
  const { data } = await api('GET', `/assets/${encodeURIComponent(id)}/signed-url`, {
    query: { disposition, expires_in: expiresIn },
  });
  return data.url;
}

// allPages follows next_cursor until the end or max items.
export async function allPages(path, query, max = 1000) {
  const out = [];
  let cursor = '';
  do {
    const { data, meta } = await api('GET', path, { query: { ...query, limit: 100, cursor } });
    out.push(...data);
    cursor = (meta && meta.next_cursor) || '';
  } while (cursor && out.length < max);
  return out;
}
