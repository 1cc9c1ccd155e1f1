// The livecut HTTP API, same origin, session cookie. Every error becomes an ApiError with the
// server's message, so pages can show it in a toast instead of failing silently.

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

// Called on a 401 from any call but the session checks: the session expired, show the login form.
let onUnauthorized = () => {};

export function whenUnauthorized(handler) {
  onUnauthorized = handler;
}

export async function api(path, { method = "GET", body } = {}) {
  let response;
  try {
    response = await fetch(path, {
      method,
      credentials: "same-origin",
      headers: body === undefined ? {} : { "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (error) {
    throw new ApiError(0, `livecut is unreachable (${error.message})`);
  }
  const data = await readBody(response);
  if (!response.ok) {
    if (response.status === 401 && !path.startsWith("/api/login") && !path.startsWith("/api/me")) {
      onUnauthorized();
    }
    throw new ApiError(response.status, describeError(response, data));
  }
  return data;
}

async function readBody(response) {
  const text = await response.text();
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** FastAPI errors are {"detail": "..."} or, for validation, {"detail": [{loc, msg}, ...]}. */
function describeError(response, data) {
  const detail = data && typeof data === "object" ? data.detail : null;
  if (typeof detail === "string") return detail;
  if (Array.isArray(detail)) {
    return detail.map((item) => `${(item.loc || []).filter((part) => part !== "body").join(".")}: ${item.msg}`).join("; ");
  }
  return `${response.status} ${response.statusText || "error"}`;
}

/** Query string of the non-empty values: {room: "a", label: ""} → "?room=a". */
export function query(params) {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value !== "" && value !== null && value !== undefined) search.set(name, value);
  }
  const text = search.toString();
  return text ? `?${text}` : "";
}

export const Api = {
  me: () => api("/api/me"),
  login: (username, password) => api("/api/login", { method: "POST", body: { username, password } }),
  logout: () => api("/api/logout", { method: "POST" }),
  rooms: () => api("/api/rooms"),
  createRoom: (body) => api("/api/rooms", { method: "POST", body }),
  stopRoom: (roomId) => api(`/api/rooms/${encodeURIComponent(roomId)}/stop`, { method: "POST" }),
  utterances: (roomId) => api(`/api/rooms/${encodeURIComponent(roomId)}/utterances`),
  clips: (filters) => api(`/api/clips${query(filters)}`),
  review: (clipId, body) => api(`/api/clips/${encodeURIComponent(clipId)}/review`, { method: "POST", body }),
  bulkReview: (clipIds, action) => api("/api/clips/review", { method: "POST", body: { clip_ids: clipIds, action } }),
  trim: (clipId, t0, t1) => api(`/api/clips/${encodeURIComponent(clipId)}/trim`, { method: "POST", body: { t0, t1 } }),
  makeClip: (roomId, body) => api(`/api/rooms/${encodeURIComponent(roomId)}/clips`, { method: "POST", body }),
  schedule: (clipId, group) => api(`/api/clips/${encodeURIComponent(clipId)}/schedule`, { method: "POST", body: { group } }),
  accounts: () => api("/api/accounts"),
  createAccount: (body) => api("/api/accounts", { method: "POST", body }),
  setCredentials: (accountId, body) => api(`/api/accounts/${encodeURIComponent(accountId)}/credentials`, { method: "PUT", body }),
  pauseAccount: (accountId) => api(`/api/accounts/${encodeURIComponent(accountId)}/pause`, { method: "POST" }),
  resumeAccount: (accountId) => api(`/api/accounts/${encodeURIComponent(accountId)}/resume`, { method: "POST" }),
  posts: (filters) => api(`/api/posts${query(filters)}`),
  cancelPost: (postId) => api(`/api/posts/${encodeURIComponent(postId)}/cancel`, { method: "POST" }),
  retryPost: (postId, overrideDuplicate) =>
    api(`/api/posts/${encodeURIComponent(postId)}/retry`, { method: "POST", body: { override_duplicate: overrideDuplicate } }),
  products: () => api("/api/products"),
  product: (id) => api(`/api/products/${encodeURIComponent(id)}`),
  confirmStep: (id, step, body) => api(`/api/products/${encodeURIComponent(id)}/steps/${step}`, { method: "POST", body }),
  exportProduct: (id, platform) => api(`/api/products/${encodeURIComponent(id)}/export${query({ platform })}`, { method: "POST" }),
  detail: (id) => api(`/api/products/${encodeURIComponent(id)}/detail`),
  fixRole: (id, path, role) => api(`/api/products/${encodeURIComponent(id)}/detail/images/role`, { method: "POST", body: { path, role } }),
  editSlot: (id, page, slot, body) =>
    api(`/api/products/${encodeURIComponent(id)}/detail/pages/${encodeURIComponent(page)}/slots/${encodeURIComponent(slot)}`, { method: "PATCH", body }),
  removePage: (id, page) => api(`/api/products/${encodeURIComponent(id)}/detail/pages/${encodeURIComponent(page)}`, { method: "DELETE" }),
  renderDetail: (id, platforms) => api(`/api/products/${encodeURIComponent(id)}/detail/render`, { method: "POST", body: { platforms } }),
  confirmDetail: (id) => api(`/api/products/${encodeURIComponent(id)}/detail/confirm`, { method: "POST" }),
  markPosted: (postId, url) => api(`/api/posts/${encodeURIComponent(postId)}/mark-posted`, { method: "POST", body: { url } }),
};
