// The fleet in memory: one record per provider, kept current from domain events.
// Views ask for the filtered, sorted list; a status change re-filters 10,000 records in a
// few milliseconds, and changes arriving together are folded into one update per frame.
import { parseTime } from "./format.js";

const STATUS_RANK = { unhealthy: 0, unknown: 1, healthy: 2 };

export class FleetStore {
  constructor() {
    this.byId = new Map();
    this.filter = { status: "all", text: "" };
    this.sort = "name";
    this.view = [];
    this.probesAvailable = true;
    this.listeners = new Set();
    this.pendingIds = new Set();
    this.structural = false;
    this.frame = 0;
    this.stats = { lastApplyMs: 0, lastEventAt: 0, lastPaintAt: 0 };
  }

  onChange(fn) {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  load(rows, probesAvailable = true) {
    this.byId.clear();
    for (const row of rows) this.byId.set(row.id, normalise(row));
    this.probesAvailable = probesAvailable;
    this.recompute();
    this.notify(null, true);
  }

  get(id) { return this.byId.get(id); }

  all() { return Array.from(this.byId.values()); }

  counts() {
    const counts = { all: 0, healthy: 0, unhealthy: 0, unknown: 0 };
    for (const row of this.byId.values()) {
      counts.all += 1;
      counts[row.health_status] = (counts[row.health_status] || 0) + 1;
    }
    return counts;
  }

  setFilter(filter) {
    Object.assign(this.filter, filter);
    this.recompute();
    this.notify(null, true);
  }

  setSort(sort) {
    this.sort = sort;
    this.recompute();
    this.notify(null, true);
  }

  recompute() {
    const text = this.filter.text.trim().toLowerCase();
    const status = this.filter.status;
    const out = [];
    for (const row of this.byId.values()) {
      if (status !== "all" && row.health_status !== status) continue;
      if (text && !row.search.includes(text)) continue;
      out.push(row);
    }
    out.sort(comparators[this.sort] || comparators.name);
    this.view = out;
  }

  // -- events ---------------------------------------------------------------------------

  /** provider_health_changed: {provider_id, new_status, checked_at, provider} */
  applyHealthChanged(data) {
    const row = this.byId.get(data.provider_id);
    if (!row) {
      if (data.provider) this.upsert(data.provider);
      return;
    }
    const at = parseTime(data.checked_at);
    if (at !== null && row.checkedMs !== null && at < row.checkedMs) return; // older than shown
    const structural = row.health_status !== data.new_status;
    row.health_status = data.new_status;
    if (at !== null) { row.checkedMs = at; row.health_checked_at = data.checked_at; }
    row.changedAt = performance.now();
    this.touch(row.id, structural);
  }

  /** provider_probes_recorded: {results: [{provider_id, status, checked_at, rtt_ms, consecutive_failures}]} */
  applyProbes(results) {
    for (const probe of results) {
      const row = this.byId.get(probe.provider_id);
      if (!row) continue;
      const at = parseTime(probe.checked_at);
      if (at !== null && row.probeMs !== null && at < row.probeMs) continue;
      row.probeMs = at;
      row.rtt_ms = probe.rtt_ms;
      row.consecutive_failures = probe.consecutive_failures;
      if (row.checkedMs === null || (at !== null && at >= row.checkedMs)) {
        row.checkedMs = at;
        row.health_checked_at = probe.checked_at;
      }
      this.touch(row.id, this.sort !== "name");
    }
  }

  upsert(provider) {
    if (provider.tm_delete && !provider.tm_delete.startsWith("9999")) {
      this.remove(provider.id);
      return;
    }
    const known = this.byId.get(provider.id);
    const row = normalise({ ...(known || {}), ...pick(provider) });
    if (known) {
      row.rtt_ms = known.rtt_ms;
      row.consecutive_failures = known.consecutive_failures;
      row.probeMs = known.probeMs;
    }
    this.byId.set(row.id, row);
    this.touch(row.id, true);
  }

  remove(id) {
    if (this.byId.delete(id)) this.touch(id, true);
  }

  touch(id, structural) {
    this.pendingIds.add(id);
    this.structural = this.structural || structural;
    if (!this.stats.firstPending) this.stats.firstPending = performance.now();
    if (!this.frame) this.frame = requestAnimationFrame(() => this.flush());
  }

  flush() {
    this.frame = 0;
    const started = performance.now();
    const ids = this.pendingIds;
    const structural = this.structural;
    this.pendingIds = new Set();
    this.structural = false;
    if (structural) this.recompute();
    this.notify(ids, structural);
    const done = performance.now();
    // User Timing entries for benchmarks and the performance panel; only the latest is kept
    // (a page open for days would otherwise collect one per update).
    performance.clearMeasures("console:apply");
    performance.clearMeasures("console:event-to-dom");
    performance.measure("console:apply", { start: started, end: done });
    performance.measure("console:event-to-dom", { start: this.stats.firstPending || started, end: done });
    this.stats.lastApplyMs = done - started;
    this.stats.lastLatencyMs = done - (this.stats.firstPending || started);
    this.stats.firstPending = 0;
    this.stats.lastPaintAt = done;
  }

  notify(ids, structural) {
    for (const fn of this.listeners) fn(ids, structural);
  }
}

const OPTIONAL = ["transport", "register", "registration_status"];

function pick(provider) {
  const row = {
    id: provider.id,
    name: provider.name,
    hostname: provider.hostname,
    health_status: provider.health_status,
    health_checked_at: provider.health_checked_at,
  };
  for (const key of OPTIONAL) if (key in provider) row[key] = provider[key];
  return row;
}

function normalise(row) {
  const out = { rtt_ms: null, consecutive_failures: null, ...row };
  out.health_status = out.health_status || "unknown";
  out.checkedMs = parseTime(out.health_checked_at);
  const probeMs = parseTime(out.probe_checked_at || null);
  out.probeMs = out.probeMs ?? probeMs;
  if (probeMs !== null && (out.checkedMs === null || probeMs > out.checkedMs)) {
    out.checkedMs = probeMs;
    out.health_checked_at = out.probe_checked_at;
  }
  out.search = `${out.name || ""} ${out.hostname || ""} ${out.id}`.toLowerCase();
  return out;
}

// One collator for every comparison: String.localeCompare builds one per call, which made
// sorting 10,000 names take a visible part of the first render.
const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: "base" });
export const byName = (a, b) => collator.compare(a.name || "", b.name || "") || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
const comparators = {
  name: byName,
  status: (a, b) => STATUS_RANK[a.health_status] - STATUS_RANK[b.health_status] || byName(a, b),
  rtt: (a, b) => (b.rtt_ms ?? -1) - (a.rtt_ms ?? -1) || byName(a, b),
  failures: (a, b) => (b.consecutive_failures ?? -1) - (a.consecutive_failures ?? -1) || byName(a, b),
};
