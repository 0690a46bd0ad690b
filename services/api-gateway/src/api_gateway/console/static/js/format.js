// Turning API values into words and numbers people read.

/** The API's "YYYY-MM-DD HH:MM:SS.ffffff" (UTC) as epoch ms; null for none or "never". */
export function parseTime(value) {
  if (!value || value.startsWith("9999")) return null;
  const ms = Date.parse(value.replace(" ", "T").slice(0, 23) + "Z");
  return Number.isNaN(ms) ? null : ms;
}

export function ago(value, now = Date.now()) {
  const ms = typeof value === "number" ? value : parseTime(value);
  if (ms === null) return "never";
  const s = Math.max(0, Math.round((now - ms) / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86400)} d ago`;
}

export function clock(value) {
  const ms = typeof value === "number" ? value : parseTime(value);
  if (ms === null) return "—";
  return new Date(ms).toISOString().replace("T", " ").slice(0, 19) + " UTC";
}

export function ms(value) {
  if (value === null || value === undefined) return "—";
  return value < 10 ? `${value.toFixed(1)} ms` : `${Math.round(value)} ms`;
}

export function percent(ratio) {
  return ratio === null || ratio === undefined ? "—" : `${(ratio * 100).toFixed(1)} %`;
}

export function count(value) {
  return value === null || value === undefined ? "—" : String(value);
}
