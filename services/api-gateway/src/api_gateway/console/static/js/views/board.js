// Fleet board: every provider with status, last check, RTT, failure streak, registration;
// status filter, search, sort; rows change in place as events arrive.
import { h } from "../dom.js";
import { ago, ms, count } from "../format.js";
import { fleet, loadFleet } from "../state.js";
import { VirtualList } from "../virtual-list.js";

const STATUSES = [["all", "All"], ["unhealthy", "Unhealthy"], ["unknown", "Unknown"], ["healthy", "Healthy"]];
const SORTS = [["name", "Name"], ["status", "Status (unhealthy first)"], ["rtt", "RTT (slowest first)"], ["failures", "Failure streak"]];
const COLUMNS = ["Status", "Name", "Hostname", "Last check", "RTT", "Failures", "Registration"];

export function boardView(main) {
  const countEls = new Map();
  const radios = STATUSES.map(([value, label]) => {
    const countEl = h("span", { class: "muted" }, "");
    countEls.set(value, countEl);
    const input = h("input", { type: "radio", name: "status", value, checked: fleet.filter.status === value });
    input.addEventListener("change", () => fleet.setFilter({ status: value }));
    return h("label", {}, input, h("span", {}, label), countEl);
  });
  const search = h("input", {
    type: "search", id: "board-search", value: fleet.filter.text, placeholder: "name, hostname or id",
    autocomplete: "off",
  });
  let searchTimer = 0;
  search.addEventListener("input", () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(() => fleet.setFilter({ text: search.value }), 120);
  });
  const sort = h("select", { id: "board-sort" }, ...SORTS.map(([v, t]) => h("option", { value: v, selected: fleet.sort === v }, t)));
  sort.addEventListener("change", () => fleet.setSort(sort.value));

  const summary = h("p", { class: "board-summary", id: "board-summary" }, "Loading providers…");
  const list = h("div", { class: "vlist", role: "rowgroup", id: "board-rows" });
  const table = h("div", { role: "table", "aria-label": "Providers", "aria-describedby": "board-summary", id: "board" },
    h("div", { class: "table-head", role: "row", "aria-rowindex": "1" },
      ...COLUMNS.map((c) => h("span", { role: "columnheader" }, c))),
    list);

  main.append(
    h("h1", {}, "Fleet"),
    h("div", { class: "board-tools" },
      h("fieldset", { class: "status-filter" }, h("legend", {}, "Status"), ...radios),
      h("div", { class: "field" }, h("label", { for: "board-search" }, "Search"), search),
      h("div", { class: "field" }, h("label", { for: "board-sort" }, "Sort by"), sort)),
    summary,
    table);

  const vlist = new VirtualList(list, { createRow, renderRow });

  function renderCounts() {
    const counts = fleet.counts();
    for (const [value, el] of countEls) el.textContent = `(${counts[value] || 0})`;
    const shown = fleet.view.length;
    summary.textContent = counts.all === 0
      ? "No providers yet. Create one through the API or Carrier setup."
      : `${shown} of ${counts.all} providers shown · ${counts.unhealthy} unhealthy · ${counts.unknown} unknown · ${counts.healthy} healthy`
        + (fleet.probesAvailable ? "" : " · probe details unavailable (health-checker not answering)");
    table.setAttribute("aria-rowcount", String(shown + 1));
  }

  let rendered = false;
  const off = fleet.onChange((ids, structural) => {
    if (structural) {
      vlist.setItems(fleet.view);
      renderCounts();
      if (!rendered && fleet.byId.size) { rendered = true; performance.mark("console:board-rendered"); }
    }
    else if (ids) vlist.update(ids);
  });

  list.addEventListener("keydown", (event) => moveFocus(event, vlist));
  const ticker = setInterval(() => vlist.refresh(), 5000);

  if (fleet.byId.size) { vlist.setItems(fleet.view); renderCounts(); }
  loadFleet().catch((err) => {
    summary.textContent = `Could not load the fleet: ${err.message}`;
  });

  return () => { off(); clearInterval(ticker); clearTimeout(searchTimer); vlist.destroy(); };
}

function createRow() {
  const row = h("div", { class: "vrow", role: "row" });
  const status = h("span", { class: "badge" });
  const link = h("a", {});
  row.append(
    h("span", { class: "c-status", role: "cell" }, status),
    h("span", { class: "c-name", role: "cell" }, link),
    h("span", { class: "c-host", role: "cell" }),
    h("span", { class: "c-check", role: "cell" }),
    h("span", { class: "c-rtt num", role: "cell" }),
    h("span", { class: "c-fail num", role: "cell" }),
    h("span", { class: "c-reg", role: "cell" }));
  row._cells = { status, link, host: row.children[2], check: row.children[3], rtt: row.children[4], fail: row.children[5], reg: row.children[6] };
  return row;
}

function renderRow(row, item) {
  const c = row._cells;
  const status = item.health_status || "unknown";
  c.status.className = `badge ${status}`;
  c.status.textContent = status;
  c.link.textContent = item.name || "(no name)";
  c.link.href = `#/providers/${item.id}`;
  c.host.textContent = item.hostname;
  c.check.textContent = ago(item.checkedMs);
  c.check.title = item.health_checked_at || "never checked";
  c.rtt.textContent = ms(item.rtt_ms);
  c.fail.textContent = count(item.consecutive_failures);
  c.reg.textContent = registration(item);
  row.dataset.id = item.id;
  row.dataset.status = status;
  row.classList.toggle("changed", item.changedAt !== undefined && performance.now() - item.changedAt < 4000);
}

function registration(item) {
  // Only providers that register have a registration to show.
  if (item.register === false || !item.registration_status) return "—";
  return item.registration_status;
}

/** Arrow keys, Page keys, Home and End move between row links, scrolling as needed. */
function moveFocus(event, vlist) {
  const keys = { ArrowDown: 1, ArrowUp: -1, PageDown: 10, PageUp: -10 };
  const row = event.target.closest(".vrow");
  if (!row) return;
  const index = Number(row.getAttribute("aria-rowindex")) - 2;
  let next;
  if (event.key in keys) next = index + keys[event.key];
  else if (event.key === "Home") next = 0;
  else if (event.key === "End") next = vlist.items.length - 1;
  else return;
  event.preventDefault();
  next = Math.max(0, Math.min(vlist.items.length - 1, next));
  vlist.scrollToIndex(next);
  const target = vlist.rowElement(next);
  if (target) target.querySelector("a").focus();
}

