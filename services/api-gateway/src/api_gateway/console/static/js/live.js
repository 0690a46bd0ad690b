// The gateway's event stream (server-sent events fed from the services' domain events).
// Views subscribe to event types; when the stream (re)connects after a gap, `resync`
// listeners reload their snapshot, since events sent during the gap are gone.

const listeners = new Map(); // type or "*" -> Set of callbacks
let source = null;
let hadGap = false;
let state = "connecting";
const stateListeners = new Set();

function emit(type, payload) {
  for (const key of [type, "*"]) {
    for (const fn of listeners.get(key) || []) {
      try { fn(payload, type); } catch (err) { console.error("live listener failed", err); }
    }
  }
}

function setState(next) {
  state = next;
  for (const fn of stateListeners) fn(next);
}

export function liveState() { return state; }

export function onLiveState(fn) {
  stateListeners.add(fn);
  fn(state);
  return () => stateListeners.delete(fn);
}

/** fn(event envelope) for each event of `type` ("*" for all); returns an unsubscribe. */
export function subscribe(type, fn) {
  if (!listeners.has(type)) listeners.set(type, new Set());
  listeners.get(type).add(fn);
  return () => listeners.get(type).delete(fn);
}

export function connectLive() {
  if (source) return;
  source = new EventSource("api/events");
  source.addEventListener("ready", () => {
    setState("live");
    if (hadGap) emit("resync", { reason: "reconnected" });
    hadGap = false;
  });
  source.addEventListener("resync", () => { hadGap = true; });
  source.onmessage = (message) => {
    let envelope;
    try { envelope = JSON.parse(message.data); } catch { return; }
    if (envelope && typeof envelope.type === "string") emit(envelope.type, envelope);
  };
  source.onerror = () => {
    hadGap = true;
    setState(source && source.readyState === EventSource.CLOSED ? "off" : "reconnecting");
    if (source && source.readyState === EventSource.CLOSED) {
      // Closed for good (e.g. signed out): try once more later; a 401 sends us to sign-in.
      source = null;
      setTimeout(() => { if (!source && document.body.dataset.signedIn === "yes") connectLive(); }, 3000);
    }
  };
}

export function disconnectLive() {
  if (source) source.close();
  source = null;
  setState("off");
}
