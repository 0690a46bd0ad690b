// Charts drawn as inline SVG from the probe history: a status timeline and an RTT plot.
import { s } from "./dom.js";
import { parseTime, clock } from "./format.js";

const W = 720;
const PAD = { left: 48, right: 12, top: 10, bottom: 24 };

function timeScale(checks) {
  const times = checks.map((c) => c.t);
  const min = Math.min(...times);
  const max = Math.max(...times);
  const span = Math.max(1, max - min);
  const inner = W - PAD.left - PAD.right;
  return { min, max, x: (t) => PAD.left + ((t - min) / span) * inner };
}

/** Probe history (any order) -> [{t, outcome, rtt}] oldest first. */
export function probes(history) {
  return history
    .map((c) => ({ t: parseTime(c.checked_at), outcome: c.outcome, rtt: c.rtt_ms, code: c.status_code, error: c.error }))
    .filter((c) => c.t !== null)
    .sort((a, b) => a.t - b.t);
}

function timeLabels(scale, y) {
  return [scale.min, scale.max].map((t, i) => s("text", {
    class: "label", x: i === 0 ? PAD.left : W - PAD.right, y, "text-anchor": i === 0 ? "start" : "end",
    text: clock(t).slice(11),
  }));
}

/** Healthy/unhealthy as coloured spans: each probe's verdict holds until the next probe. */
export function statusTimeline(checks, title) {
  const H = 64;
  const svg = s("svg", { class: "chart", viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": title });
  svg.append(s("title", { text: title }));
  if (checks.length === 0) return svg;
  const scale = timeScale(checks);
  const top = PAD.top;
  const height = H - PAD.top - PAD.bottom;
  checks.forEach((c, i) => {
    const x0 = scale.x(c.t);
    const x1 = i + 1 < checks.length ? scale.x(checks[i + 1].t) : Math.max(x0 + 3, W - PAD.right);
    svg.append(s("rect", { class: `seg-${c.outcome}`, x: x0, y: top, width: Math.max(1.5, x1 - x0), height }));
  });
  svg.append(s("line", { class: "axis", x1: PAD.left, x2: W - PAD.right, y1: top + height, y2: top + height }));
  svg.append(...timeLabels(scale, H - 6));
  return svg;
}

/** RTT of answered probes as a line; failed probes as marks on the baseline. */
export function rttPlot(checks, title) {
  const H = 200;
  const svg = s("svg", { class: "chart", viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": title });
  svg.append(s("title", { text: title }));
  if (checks.length === 0) return svg;
  const scale = timeScale(checks);
  const answered = checks.filter((c) => c.rtt !== null && c.rtt !== undefined);
  const maxRtt = niceMax(Math.max(1, ...answered.map((c) => c.rtt)));
  const base = H - PAD.bottom;
  const y = (v) => base - (v / maxRtt) * (base - PAD.top);
  for (const frac of [0, 0.5, 1]) {
    const v = maxRtt * frac;
    svg.append(s("line", { class: frac === 0 ? "axis" : "grid", x1: PAD.left, x2: W - PAD.right, y1: y(v), y2: y(v) }));
    svg.append(s("text", { class: "label", x: PAD.left - 6, y: y(v) + 4, "text-anchor": "end", text: `${Math.round(v)}` }));
  }
  svg.append(s("text", { class: "label", x: 4, y: PAD.top + 10, text: "ms" }));
  if (answered.length > 1) {
    const d = answered.map((c, i) => `${i ? "L" : "M"}${scale.x(c.t).toFixed(1)},${y(c.rtt).toFixed(1)}`).join("");
    svg.append(s("path", { class: "line", d }));
  }
  for (const c of answered) svg.append(s("circle", { class: "pt", cx: scale.x(c.t), cy: y(c.rtt), r: 2.5 }));
  for (const c of checks) {
    if (c.outcome === "unhealthy") {
      const x = scale.x(c.t);
      svg.append(s("path", { class: "fail", d: `M${x - 4},${base - 1}L${x},${base - 9}L${x + 4},${base - 1}Z` }));
    }
  }
  svg.append(...timeLabels(scale, H - 6));
  return svg;
}

function niceMax(value) {
  const steps = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000];
  return steps.find((step) => step >= value * 1.1) || value * 1.1;
}
