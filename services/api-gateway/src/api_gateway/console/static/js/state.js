// What the views share: the fleet, loaded once and kept current by the event stream.
import { api } from "./api.js";
import { FleetStore } from "./fleet-store.js";
import { subscribe } from "./live.js";

export const fleet = new FleetStore();
let loading = null;
let wired = false;

export function loadFleet() {
  if (!loading) {
    const started = performance.now();
    loading = api("GET", "api/board").then((data) => {
      fleet.load(data.result, data.probes_available);
      fleet.stats.loadMs = performance.now() - started;
      return fleet;
    }).finally(() => { loading = null; });
  }
  return loading;
}

/** Feed the store from the stream; after a gap in the stream, reload the snapshot. */
export function wireFleetEvents() {
  if (wired) return;
  wired = true;
  subscribe("provider_health_changed", (e) => fleet.applyHealthChanged(e.data));
  subscribe("provider_probes_recorded", (e) => fleet.applyProbes(e.data.results || []));
  subscribe("provider_created", (e) => fleet.upsert(e.data));
  subscribe("provider_updated", (e) => fleet.upsert(e.data));
  subscribe("provider_deleted", (e) => fleet.remove(e.data.id));
  subscribe("provider_registration_changed", (e) => {
    const data = e.data || {};
    if (data.provider) fleet.upsert(data.provider);
  });
  subscribe("resync", () => { loadFleet().catch(() => {}); });
}
