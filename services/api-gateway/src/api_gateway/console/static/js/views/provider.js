// Provider page: status timeline and RTT plot over the probe history, call quality over a
// chosen window, the routes that use it, and edit/delete with the API's messages.
import { api, listAll } from "../api.js";
import { h, badge, announce } from "../dom.js";
import { ago, clock, ms, percent, count } from "../format.js";
import { field, showApiError, messageBox } from "../forms.js";
import { probes, statusTimeline, rttPlot } from "../charts.js";
import { subscribe } from "../live.js";
import { navigate } from "../router.js";

const WINDOWS = [["900", "Last 15 minutes"], ["3600", "Last hour"], ["86400", "Last 24 hours"], ["604800", "Last 7 days"]];
const EDITABLE = [
  ["Name", "name", {}],
  ["Hostname", "hostname", { hint: "SIP server: DNS name or IP literal, optional :port" }],
  ["Detail", "detail", { tag: "textarea" }],
  ["Tech prefix", "tech_prefix", { hint: "Prepended to the dialed number" }],
  ["Tech postfix", "tech_postfix", { hint: "Appended to the dialed number" }],
];

export function providerView(main, [id]) {
  const title = h("h1", {}, "Provider");
  const status = h("span", {}, badge("unknown"));
  const facts = h("p", { class: "muted", id: "provider-facts" }, "Loading…");
  const deleteButton = h("button", { type: "button", class: "button danger" }, "Delete provider");
  const headError = messageBox();
  main.append(
    h("p", {}, h("a", { href: "#/" }, "← Fleet")),
    h("div", { class: "provider-head" }, title, status,
      h("a", { class: "button subtle", href: `#/test-call?provider=${id}` }, "Place a test call"),
      deleteButton),
    facts, headError);

  const health = h("section", { class: "panel", "aria-labelledby": "h-health" }, h("h2", { id: "h-health" }, "Health checks"));
  const quality = h("section", { class: "panel", "aria-labelledby": "h-quality" }, h("h2", { id: "h-quality" }, "Call quality"));
  const edit = h("section", { class: "panel", "aria-labelledby": "h-edit" }, h("h2", { id: "h-edit" }, "Edit"));
  const routes = h("section", { class: "panel", "aria-labelledby": "h-routes" }, h("h2", { id: "h-routes" }, "Routes using this provider"));
  main.append(h("div", { class: "grid-2" }, health, quality), h("div", { class: "grid-2" }, edit, routes));

  const healthBody = h("div", {}, h("p", { class: "muted" }, "Loading…"));
  health.append(healthBody);
  let provider = null;

  function showProvider(p) {
    provider = p;
    title.textContent = p.name || "(no name)";
    status.replaceChildren(badge(p.health_status));
    const parts = [`Hostname ${p.hostname}`, `checked ${ago(p.health_checked_at)}`, `id ${p.id}`];
    if (p.transport) parts.push(`transport ${p.transport}`);
    if (p.register) parts.push(`registration ${p.registration_status}${p.registration_reason ? ` (${p.registration_reason})` : ""}`);
    facts.textContent = parts.join(" · ");
  }

  async function loadHealth() {
    try {
      const data = await api("GET", `/v1.0/providers/${id}/health_checks`);
      renderHealth(healthBody, probes(data.result), data.result);
    } catch (err) {
      healthBody.replaceChildren(h("p", { class: "form-error" }, `Probe history unavailable: ${err.message}`));
    }
  }

  // -- call quality -------------------------------------------------------------------
  const windowSelect = h("select", { id: "quality-window" }, ...WINDOWS.map(([v, t]) => h("option", { value: v, selected: v === "3600" }, t)));
  const qualityBody = h("div", { "aria-live": "polite" });
  quality.append(h("div", { class: "field" }, h("label", { for: "quality-window" }, "Window"), windowSelect), qualityBody);
  async function loadQuality() {
    qualityBody.replaceChildren(h("p", { class: "muted" }, "Loading…"));
    try {
      const m = await api("GET", `/v1.0/providers/${id}/call_metrics?window_seconds=${windowSelect.value}`);
      renderQuality(qualityBody, m);
    } catch (err) {
      qualityBody.replaceChildren(h("p", { class: "form-error" }, `Call metrics unavailable: ${err.message}`));
    }
  }
  windowSelect.addEventListener("change", loadQuality);

  // -- edit ---------------------------------------------------------------------------
  const fields = EDITABLE.map(([label, name, options]) => field(label, name, options));
  const editBox = messageBox();
  const save = h("button", { type: "submit", class: "button" }, "Save changes");
  const form = h("form", { novalidate: true, "aria-label": "Edit provider" }, editBox, ...fields.map((f) => f.wrap), save);
  edit.append(form);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = {};
    for (const f of fields) body[f.name] = f.input.value;
    save.disabled = true;
    try {
      const updated = await api("PUT", `/v1.0/providers/${id}`, body);
      for (const f of fields) f.setError("");
      showProvider(updated);
      editBox.className = "form-ok";
      editBox.textContent = "Saved.";
      editBox.hidden = false;
      announce("Provider saved");
    } catch (err) {
      showApiError(err, fields, editBox);
    } finally {
      save.disabled = false;
    }
  });

  deleteButton.addEventListener("click", async () => {
    if (!provider || !confirm(`Delete provider "${provider.name || provider.id}"? Routes using it stop working.`)) return;
    try {
      await api("DELETE", `/v1.0/providers/${id}`);
      announce("Provider deleted");
      navigate("#/");
    } catch (err) {
      headError.textContent = `Could not delete: ${err.message}`;
      headError.hidden = false;
      headError.focus();
    }
  });

  // -- routes -------------------------------------------------------------------------
  const routesBody = h("div", {}, h("p", { class: "muted" }, "Loading…"));
  routes.append(routesBody);
  async function loadRoutes() {
    try {
      const all = await listAll("/v1.0/routes");
      renderRoutes(routesBody, all.filter((r) => r.provider_id === id));
    } catch (err) {
      routesBody.replaceChildren(h("p", { class: "form-error" }, `Routes unavailable: ${err.message}`));
    }
  }

  api("GET", `/v1.0/providers/${id}`).then((p) => {
    showProvider(p);
    for (const f of fields) f.input.value = p[f.name] ?? "";
  }).catch((err) => {
    facts.textContent = err.status === 404 ? "No such provider." : `Could not load: ${err.message}`;
  });
  loadHealth();
  loadQuality();
  loadRoutes();

  // Live: a probe or status change of this provider reloads its history (at most 1/s).
  let timer = 0;
  const refresh = () => { if (!timer) timer = setTimeout(() => { timer = 0; loadHealth(); }, 1000); };
  const offs = [
    subscribe("provider_health_changed", (e) => {
      if (e.data.provider_id !== id) return;
      if (e.data.provider) showProvider(e.data.provider);
      announce(`Provider is now ${e.data.new_status}`);
      refresh();
    }),
    subscribe("provider_probes_recorded", (e) => {
      if ((e.data.results || []).some((r) => r.provider_id === id)) refresh();
    }),
    subscribe("provider_updated", (e) => { if (e.data.id === id) showProvider(e.data); }),
    subscribe("call_hangup", (e) => { if ((e.data.attempts || []).some((a) => a.provider_id === id)) loadQuality(); }),
  ];
  return () => { offs.forEach((off) => off()); clearTimeout(timer); };
}

function renderHealth(body, checks, raw) {
  if (checks.length === 0) {
    body.replaceChildren(h("p", { class: "muted" }, "Not probed yet."));
    return;
  }
  const answered = checks.filter((c) => c.rtt !== null && c.rtt !== undefined);
  const last = checks[checks.length - 1];
  const avg = answered.length ? answered.reduce((a, c) => a + c.rtt, 0) / answered.length : null;
  body.replaceChildren(
    h("div", { class: "stats" },
      stat("Last probe", last.outcome), stat("Last RTT", ms(last.rtt)),
      stat("Average RTT", ms(avg)), stat("Probes shown", String(checks.length))),
    h("h3", { class: "muted" }, "Status over time"),
    statusTimeline(checks, `Status timeline of the last ${checks.length} probes, from ${clock(checks[0].t)} to ${clock(last.t)}`),
    h("h3", { class: "muted" }, "Round-trip time"),
    rttPlot(checks, `Round-trip time of the last ${checks.length} probes; last ${ms(last.rtt)}`),
    h("div", { class: "legend" },
      h("span", {}, h("span", { class: "sw healthy" }), "healthy"),
      h("span", {}, h("span", { class: "sw unhealthy" }), "unhealthy (▲ on the RTT plot)"),
      h("span", {}, h("span", { class: "sw rtt" }), "RTT")),
    h("details", {}, h("summary", {}, "Probe table"),
      table(["Checked", "Outcome", "Code", "RTT", "Error"], raw.slice(0, 100).map((c) => [
        clock(c.checked_at), c.outcome, c.status_code ?? "—", ms(c.rtt_ms), c.error || c.reason || ""]))));
}

function renderQuality(body, m) {
  const pdd = m.post_dial_delay_ms || {};
  body.replaceChildren(
    h("div", { class: "stats" },
      stat("ASR", percent(m.asr)), stat("Attempts", count(m.attempts)), stat("Answered", count(m.answered)),
      stat("PDD avg", ms(pdd.avg)), stat("PDD p95", ms(pdd.p95))),
    m.failures.length
      ? table(["SIP code", "Reason", "Attempts"], m.failures.map((f) => [f.sip_status_code || "no response", f.sip_reason, f.count]))
      : h("p", { class: "muted" }, m.attempts ? "No failed attempts in this window." : "No calls through this provider in this window."),
    h("p", { class: "muted" }, `${clock(m.since)} – ${clock(m.until)}`));
}

function renderRoutes(body, routes) {
  if (!routes.length) {
    body.replaceChildren(h("p", { class: "muted" }, "No route uses this provider."));
    return;
  }
  body.replaceChildren(table(["Name", "Target", "Priority", "Customer"], routes.map((r) => [
    r.name || "(no name)", r.target, r.priority, r.customer_id])));
}

function stat(label, value) {
  return h("div", { class: "stat" }, h("div", { class: "k" }, label), h("div", { class: "v" }, value));
}

function table(headers, rows) {
  return h("table", { class: "data" },
    h("thead", {}, h("tr", {}, ...headers.map((x) => h("th", { scope: "col" }, x)))),
    h("tbody", {}, ...rows.map((r) => h("tr", {}, ...r.map((x) => h("td", {}, String(x)))))));
}
