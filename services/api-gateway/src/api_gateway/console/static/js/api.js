// Calls to the gateway. The session is the HttpOnly cookie: scripts never hold a token.

export class ApiError extends Error {
  constructor(status, body) {
    const error = (body && body.error) || {};
    super(error.message || `request failed (${status})`);
    this.status = status;
    this.reason = error.reason || "";
    this.requestId = error.request_id || "";
    this.details = error.details || {};
    // Validation errors name their field in details.field and as the message's prefix.
    this.field = this.details.field || fieldFromMessage(this.message);
  }

  /** The message without its "field: " prefix, for showing beside that field. */
  get fieldMessage() {
    const prefix = `${this.field}: `;
    return this.field && this.message.startsWith(prefix) ? this.message.slice(prefix.length) : this.message;
  }
}

function fieldFromMessage(message) {
  const match = /^([a-z_][a-z0-9_.]*): /.exec(message || "");
  return match ? match[1] : "";
}

export async function api(method, path, body, headers) {
  const init = {
    method,
    credentials: "same-origin",
    headers: { Accept: "application/json", ...(headers || {}) },
  };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch (err) {
    throw new ApiError(0, { error: { message: `the gateway could not be reached (${err.message})` } });
  }
  const text = await response.text();
  let data = null;
  if (text) {
    try { data = JSON.parse(text); } catch { data = null; }
  }
  if (!response.ok) {
    if (response.status === 401 && !path.endsWith("/console/api/session")) {
      window.dispatchEvent(new CustomEvent("console:signed-out"));
    }
    throw new ApiError(response.status, data);
  }
  return data;
}

/** Every item of a paged list, up to `limit` (tokens end with "" or an empty page). */
export async function listAll(path, limit = 5000) {
  const items = [];
  let token = "";
  for (;;) {
    const sep = path.includes("?") ? "&" : "?";
    const page = await api("GET", `${path}${sep}page_size=100&page_token=${encodeURIComponent(token)}`);
    items.push(...page.result);
    token = page.next_page_token || "";
    if (!token || page.result.length === 0 || items.length >= limit) return items;
  }
}
