// Test call: place a ProviderCall through one provider and watch each call progress
// (dialing, ringing, answered, hangup and why, every SIP attempt) from call events.
import { api } from "../api.js";
import { h, announce } from "../dom.js";
import { clock } from "../format.js";
import { field, showApiError, messageBox } from "../forms.js";
import { subscribe } from "../live.js";
import { byName } from "../fleet-store.js";
import { fleet, loadFleet } from "../state.js";

const STEPS = [["dialing", "Dialing"], ["ringing", "Ringing"], ["progressing", "Answered"], ["hangup", "Hung up"]];
const ORDER = { dialing: 0, ringing: 1, progressing: 2, terminating: 2.5, canceling: 1.5, hangup: 3 };
const MAX_OPTIONS = 200;

// Latest call record seen per id, kept briefly: events can arrive before the POST returns.
const recent = new Map();
function remember(call) {
  const known = recent.get(call.id);
  if (!known || newer(call, known)) recent.set(call.id, call);
  if (recent.size > 500) recent.delete(recent.keys().next().value);
}
function newer(a, b) {
  return (ORDER[a.status] ?? 0) > (ORDER[b.status] ?? 0)
    || ((ORDER[a.status] ?? 0) === (ORDER[b.status] ?? 0) && (a.tm_update || "") >= (b.tm_update || ""));
}

export function testCallView(main, _, params) {
  const provider = field("Provider", "provider_id", { tag: "select", hint: "Every call is forced through this provider" });
  const filter = h("input", { type: "search", id: "provider-filter", placeholder: "filter by name or hostname", autocomplete: "off" });
  const source = field("Caller ID (source)", "source", { value: "+15550000100", hint: "E.164 number, e.g. +14155551234", type: "tel" });
  const destinations = field("Destinations", "destinations", {
    tag: "textarea", value: "+15550000001",
    hint: "One per line: an E.164 number, or sip:user@host to dial a SIP URI directly",
  });
  const anonymous = field("Anonymous caller ID", "anonymous", { tag: "select", choices: [["auto", "auto"], ["no", "no"], ["yes", "yes"]] });
  const hold = field("Hang up after answer (seconds)", "actions", { type: "number", value: "2", hint: "0 keeps the call up until the carrier hangs up" });
  hold.input.min = "0";
  hold.input.max = "3600";
  const fields = [provider, source, destinations, anonymous, hold];
  const box = messageBox();
  const submit = h("button", { type: "submit", class: "button" }, "Place test call");
  const form = h("form", { novalidate: true, "aria-label": "Test call" },
    box,
    h("div", { class: "field" }, h("label", { for: "provider-filter" }, "Find provider"), filter),
    ...fields.map((f) => f.wrap), submit);
  const callsRegion = h("section", { class: "panel", "aria-labelledby": "h-calls" },
    h("h2", { id: "h-calls" }, "Calls"),
    h("div", { id: "calls", "aria-live": "polite" }, h("p", { class: "muted" }, "Calls you place appear here and update as they progress.")));
  main.append(h("h1", {}, "Test call"), h("div", { class: "grid-2" }, h("section", { class: "panel" }, form), callsRegion));

  // The provider to keep selected: the one the link named, then whatever the user picks. Not
  // the select's current value alone: filled from a fleet loaded before that provider existed,
  // the select falls back to its first option, which the refill would then have kept.
  let picked = params.get("provider") || "";
  provider.input.addEventListener("change", () => { picked = provider.input.value; });
  function fillProviders() {
    const text = filter.value.trim().toLowerCase();
    const keep = picked || provider.input.value;
    const matches = fleet.all()
      .filter((p) => !text || p.search.includes(text) || p.id === keep)
      .sort(byName);
    const shown = matches.slice(0, MAX_OPTIONS);
    const chosen = keep && fleet.get(keep);
    if (chosen && !shown.includes(chosen)) shown.unshift(chosen);
    provider.input.replaceChildren(...shown.map((p) => h("option", { value: p.id, selected: p.id === keep },
      `${p.name || "(no name)"} — ${p.hostname} (${p.health_status})`)));
    if (matches.length > MAX_OPTIONS) provider.input.append(h("option", { disabled: true }, `… ${matches.length - MAX_OPTIONS} more: refine the filter`));
  }
  filter.addEventListener("input", fillProviders);
  loadFleet().then(fillProviders).catch((err) => showApiError(err, [], box));
  if (fleet.byId.size) fillProviders();

  const cards = new Map(); // call id -> {card, render}
  const list = callsRegion.querySelector("#calls");

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    for (const f of fields) f.setError("");
    const body = {
      provider_id: provider.input.value,
      source: { type: "tel", target: source.input.value.trim() },
      destinations: parseDestinations(destinations.input.value),
      anonymous: anonymous.input.value,
    };
    const seconds = Number(hold.input.value || "0");
    if (!Number.isFinite(seconds) || seconds < 0 || seconds > 3600) {
      hold.setError("must be a number of seconds from 0 to 3600");
      hold.input.focus();
      return;
    }
    if (seconds > 0) body.actions = [{ type: "pause", option: { duration: Math.round(seconds * 1000) } }, { type: "hangup" }];
    submit.disabled = true;
    try {
      const result = await api("POST", "/v1.0/providercalls", body, { "Idempotency-Key": crypto.randomUUID() });
      box.hidden = true;
      if (cards.size === 0) list.replaceChildren();
      for (const failed of result.failed_destinations || []) {
        list.prepend(h("div", { class: "call-card form-error" }, `${failed.destination.target}: not dialed (${failed.reason})`));
      }
      for (const callId of result.call_ids) addCard(callId);
      announce(`${result.call_ids.length} test call(s) placed`);
    } catch (err) {
      showApiError(err, fields, box);
    } finally {
      submit.disabled = false;
    }
  });

  function addCard(callId) {
    const card = h("article", { class: "call-card", "data-call-id": callId, "aria-label": `Call ${callId}` });
    const entry = { card, call: null };
    cards.set(callId, entry);
    list.prepend(card);
    renderCall(entry, recent.get(callId) || null);
    api("GET", `/v1.0/calls/${callId}`).then((call) => update(call)).catch(() => {});
  }

  function update(call) {
    remember(call);
    const entry = cards.get(call.id);
    if (!entry) return;
    if (entry.call && !newer(call, entry.call)) return;
    const wasDone = entry.call && entry.call.status === "hangup";
    renderCall(entry, call);
    if (call.status === "hangup" && !wasDone) announce(`Call to ${call.destination.target} ended: ${call.hangup_reason || "hangup"}`);
  }

  const off = subscribe("*", (event, type) => {
    if (type.startsWith("call_") && event.data && event.data.id) update(event.data);
  });
  return () => off();
}

function parseDestinations(text) {
  return text.split(/\n+/).map((line) => line.trim()).filter(Boolean).map((line) => (
    line.toLowerCase().startsWith("sip:") ? { type: "sip", target: line.slice(4) } : { type: "tel", target: line }
  ));
}

function renderCall(entry, call) {
  entry.call = call;
  const card = entry.card;
  if (!call) {
    card.replaceChildren(h("p", { class: "muted" }, `Call ${card.dataset.callId}: waiting for its first event…`));
    return;
  }
  card.dataset.status = call.status;
  const reached = ORDER[call.status] ?? 0;
  const answered = Boolean(call.tm_progressing);
  const steps = STEPS.map(([key, label]) => {
    let cls = "";
    if (key === call.status || (key === "hangup" && call.status === "hangup")) cls = "current";
    if (ORDER[key] < reached) cls = "done";
    if (key === "progressing" && call.status === "hangup" && !answered) cls = "failed";
    if (key === "hangup" && call.status === "hangup") cls = answered && call.hangup_reason === "normal" ? "done" : "failed";
    return h("li", { class: cls, "aria-current": key === call.status ? "step" : undefined }, label);
  });
  const end = call.status === "hangup"
    ? h("p", { class: "call-end" }, `Hung up by ${call.hangup_by || "—"}, reason `, h("strong", { class: "hangup-reason" }, call.hangup_reason || "—"),
      call.sip_status_code ? ` (SIP ${call.sip_status_code})` : "")
    : h("p", { class: "muted" }, `Status: ${call.status}`);
  card.replaceChildren(
    h("h3", {}, `To ${call.destination.target}`, h("span", { class: "muted" }, `  · ${call.id.slice(0, 8)}`)),
    h("ol", { class: "steps", "aria-label": "Progress" }, ...steps),
    end,
    attemptsTable(call.attempts || []));
}

function attemptsTable(attempts) {
  if (!attempts.length) return h("p", { class: "muted" }, "No SIP attempt yet.");
  return h("table", { class: "data attempts" },
    h("caption", { class: "visually-hidden" }, "SIP attempts"),
    h("thead", {}, h("tr", {}, ...["#", "Request-URI", "Result", "Started", "Ended"].map((x) => h("th", { scope: "col" }, x)))),
    h("tbody", {}, ...attempts.map((a, i) => h("tr", {},
      h("td", {}, String(i + 1)),
      h("td", {}, a.request_uri),
      h("td", {}, a.sip_status_code ? `${a.sip_status_code} ${a.sip_reason}` : (a.tm_end ? a.sip_reason || "no response" : "in progress")),
      h("td", {}, clock(a.tm_start)),
      h("td", {}, a.tm_end ? clock(a.tm_end) : "—")))));
}
