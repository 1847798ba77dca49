// MAESTRO live page: reads /api/v1/negotiations and follows /api/v1/events (server-sent
// events). Plain browser JavaScript, no build step, no external resources.
"use strict";

const $ = (id) => document.getElementById(id);
const fmt = (v, digits) => (typeof v === "number" && isFinite(v) ? v.toFixed(digits) : "–");

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") e.className = v;
    else e.setAttribute(k, v);
  }
  for (const c of children) {
    if (c === null || c === undefined) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

function log(text) {
  const li = el("li", {}, new Date().toLocaleTimeString() + "  " + text);
  const list = $("log");
  list.prepend(li);
  while (list.children.length > 30) list.lastChild.remove();
}

// ---- KPIs ----------------------------------------------------------------------------

// Each cell's latest report and, per slice, a history for the chart: the last CHART_WINDOW_S
// seconds of gNB time, at most one point per CHART_STEP_S (about 600 points per slice and
// cell, whatever the report period).
const CHART_WINDOW_S = 300;
const CHART_STEP_S = CHART_WINDOW_S / 600;
const cells = new Map(); // cell id -> { latest, history: Map(slice label -> [points]) }
let selectedCell = null; // the first cell seen until the user picks another

function onKpi(k) {
  let cell = cells.get(k.cell_id);
  if (!cell) {
    cell = { latest: k, history: new Map() };
    cells.set(k.cell_id, cell);
    if (selectedCell === null) selectedCell = k.cell_id;
    renderCellChoice();
  }
  cell.latest = k;
  const t = k.sim_time_ms / 1000;
  for (const s of k.slices) {
    let h = cell.history.get(s.slice);
    if (!h) {
      h = [];
      cell.history.set(s.slice, h);
    }
    const last = h[h.length - 1];
    if (last && t < last.t) h.length = 0; // the gNB clock started again
    else if (last && t - last.t < CHART_STEP_S) continue;
    h.push({ t, target: s.target_mbps, measured: s.measured_mbps, cqi: s.cqi });
    while (h.length && h[0].t < t - CHART_WINDOW_S) h.shift();
  }
  if (k.cell_id === selectedCell) renderKpi(k);
}

// The cell selector appears once a second cell does.
function renderCellChoice() {
  const select = $("kpi-cell");
  const ids = Array.from(cells.keys()).sort();
  select.replaceChildren(...ids.map((id) => el("option", { value: id }, id)));
  select.value = selectedCell;
  $("kpi-cell-choice").hidden = ids.length < 2;
}

function renderKpi(k) {
  $("kpi-seq").textContent = k.sequence;
  $("kpi-time").textContent = fmt(k.sim_time_ms / 1000, 1);
  $("kpi-capacity").textContent = fmt(k.capacity_mbps, 1);
  const rows = k.slices.map((s) =>
    el("tr", { "data-slice": s.slice },
      el("td", {}, s.slice),
      el("td", { class: "num" }, s.target_mbps > 0 ? fmt(s.target_mbps, 2) : "none"),
      el("td", { class: "num measured" }, fmt(s.measured_mbps, 2)),
      el("td", { class: "num" }, s.prb_quota),
      el("td", { class: "num" }, fmt(s.prb_used, 1)),
      el("td", { class: "num" }, fmt(s.cqi, 1)),
      el("td", { class: "num" }, s.ues)));
  $("kpi-rows").replaceChildren(...rows);
  scheduleCharts();
}

// ---- Charts (plain SVG) ----------------------------------------------------------------

const SVG_NS = "http://www.w3.org/2000/svg";
const CHART = { w: 600, h: 170, left: 46, right: 46, top: 8, bottom: 18 };

function svg(tag, attrs, ...children) {
  const e = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return e;
}

// A round upper bound for the throughput axis: 1, 2 or 5 times a power of ten.
function niceMax(v) {
  if (!(v > 0)) return 1;
  const p = Math.pow(10, Math.floor(Math.log10(v)));
  for (const m of [1, 2, 5, 10]) if (v <= m * p) return m * p;
  return 10 * p;
}

// One slice's chart: target (dashed) and measured throughput on the left axis (Mbps), the
// mean CQI on the right axis (0..15), over the slice's history.
function sliceChart(label, h) {
  const { w, h: height, left, right, top, bottom } = CHART;
  const t0 = h.length ? h[0].t : 0;
  const t1 = h.length ? h[h.length - 1].t : 1;
  const span = t1 - t0 || 1;
  const ymax = niceMax(Math.max(...h.map((p) => Math.max(p.target, p.measured)), 0) * 1.1);
  const x = (t) => left + ((t - t0) / span) * (w - left - right);
  const y = (v, max) => top + (1 - Math.min(v, max) / max) * (height - top - bottom);
  const path = (key, max) => h.map((p, i) =>
    (i ? "L" : "M") + x(p.t).toFixed(1) + "," + y(p[key], max).toFixed(1)).join("");
  const yb = height - bottom;
  const chart = svg("svg", { viewBox: `0 0 ${w} ${height}`, role: "img",
    "aria-label": "target, measured throughput and CQI of " + label },
  svg("line", { class: "axis", x1: left, y1: top, x2: left, y2: yb }),
  svg("line", { class: "axis", x1: left, y1: yb, x2: w - right, y2: yb }),
  svg("line", { class: "axis", x1: w - right, y1: top, x2: w - right, y2: yb }),
  svg("text", { x: left - 4, y: top + 8, "text-anchor": "end" }, fmt(ymax, 0)),
  svg("text", { x: left - 4, y: yb, "text-anchor": "end" }, "0 Mbps"),
  svg("text", { x: w - right + 4, y: top + 8 }, "CQI 15"),
  svg("text", { x: w - right + 4, y: yb }, "0"),
  svg("text", { x: left, y: height - 4 }, fmt(t0, 0) + " s"),
  svg("text", { x: w - right, y: height - 4, "text-anchor": "end" }, "gNB time " + fmt(t1, 0) + " s"),
  svg("path", { class: "target", d: path("target", ymax) }),
  svg("path", { class: "measured", d: path("measured", ymax) }),
  svg("path", { class: "cqi", d: path("cqi", 15) }));
  return el("div", { class: "slice-chart", "data-slice": label },
    el("h4", {}, label),
    el("p", { class: "legend" }, el("span", { class: "target" }, "– – target"),
      el("span", { class: "measured" }, "—— measured"), el("span", { class: "cqi" }, "—— CQI")),
    chart);
}

let chartsPending = false;
function scheduleCharts() {
  if (chartsPending) return;
  chartsPending = true;
  requestAnimationFrame(() => {
    chartsPending = false;
    const cell = cells.get(selectedCell);
    if (!cell) return;
    const labels = cell.latest.slices.map((s) => s.slice);
    $("kpi-charts").replaceChildren(...labels.map((l) => sliceChart(l, cell.history.get(l) || [])));
  });
}

// ---- Negotiations --------------------------------------------------------------------

function renderNegotiation(n, newest) {
  const agents = n.agents.map((a) => a.id);
  const head = el("tr", {}, el("th", {}, "round"),
    ...n.agents.map((a) => el("th", { class: "agent" }, a.id)),
    el("th", {}, "MAESTRO proposal"));
  const rows = n.rounds.map((r) => {
    const byAgent = {};
    for (const v of r.values) byAgent[v.agent_id] = v;
    const cells = agents.map((id) => {
      const v = byAgent[id];
      if (!v) return el("td", {}, "–");
      const inc = r.incentives.filter((d) => d.agent_id === id)
        .map((d) => el("span", { class: "incentive" }, " [" + d.incentive + "]"));
      return el("td", { class: "value" },
        el("b", {}, fmt(v.value_mbps, 2) + " Mbps"), ...inc,
        el("span", { class: "reasoning" }, v.reasoning));
    });
    return el("tr", { class: "round", "data-round": r.round },
      el("td", { class: "num" }, r.round === 0 ? "0 (open)" : r.round),
      ...cells,
      el("td", {}, el("b", {}, "mean " + fmt(r.proposal.mean_mbps, 2)),
        " · spread " + fmt(r.proposal.spread_mbps, 2),
        el("span", { class: "reasoning" }, r.proposal.summary)));
  });
  const consensus = n.consensus_mbps === null || n.consensus_mbps === undefined
    ? el("span", { class: "muted" }, "negotiating…")
    : el("span", {}, "consensus ",
      el("b", { class: "consensus", "data-consensus-mbps": n.consensus_mbps },
        fmt(n.consensus_mbps, 2)), " Mbps per slice after " + Math.max(0, n.rounds.length - 1) + " rounds",
      el("span", { class: "timing" },
        " · negotiation " + fmt(n.negotiation_wall_s, 1) + " s wall time" +
        (n.enforced_at_gnb_s === null || n.enforced_at_gnb_s === undefined
          ? "" : " · enforced at gNB time " + fmt(n.enforced_at_gnb_s, 1) + " s")));
  const policies = n.policies.length
    ? el("p", { class: "policies" }, "A1 policies: ",
      ...n.policies.map((p, i) => el("span", { class: "policy" },
        (i ? ", " : "") + p.policy_id + " → " + p.slice + " (" + fmt(p.dl_kbps / 1000, 2) + " Mbps)")))
    : null;
  const incentives = n.incentives.length
    ? el("p", { class: "incentive" }, "Arbitral incentives: " + n.incentives.map((d) =>
      "round " + d.round + " " + d.agent_id + ": " + d.incentive).join("; "))
    : el("p", { class: "muted" }, "no arbitral incentives");
  return el("div", { class: "negotiation" + (newest ? "" : " past"), id: "neg-" + n.id, "data-id": n.id },
    el("h3", {}, n.id + " ", el("span", { class: "badge status " + n.status }, n.status.replace("_", " ")),
      el("span", { class: "sub" }, " " + n.topic + (n.cell ? " · cell " + n.cell : ""))),
    el("p", { class: "agents" }, "agents: " + n.agents.map((a) =>
      a.id + " (" + a.personality + ", wants " + fmt(a.target_mbps, 0) + " Mbps)").join(", ")),
    el("p", { class: "consensus-line" }, consensus),
    el("table", { class: "rounds" }, el("thead", {}, head), el("tbody", {}, ...rows)),
    incentives, policies,
    n.citations.length ? el("p", { class: "muted" }, "cited: " + n.citations.join("; ")) : null);
}

let lastNegotiations = null;
async function refreshNegotiations() {
  try {
    const r = await fetch("/api/v1/negotiations", { cache: "no-store" });
    if (!r.ok) throw new Error("HTTP " + r.status);
    const text = await r.text();
    if (text === lastNegotiations) return; // unchanged: keep the DOM as it is
    lastNegotiations = text;
    const all = JSON.parse(text);
    const box = $("negotiations");
    if (!all.length) return;
    box.replaceChildren(...all.slice().reverse().map((n, i) => renderNegotiation(n, i === 0)));
  } catch (e) {
    log("negotiations: " + e.message);
  }
}

// Coalesce bursts of round events into one refresh.
let pending = null;
function scheduleRefresh() {
  if (pending) return;
  pending = setTimeout(() => { pending = null; refreshNegotiations(); }, 150);
}

// ---- Events --------------------------------------------------------------------------

function connect() {
  const es = new EventSource("/api/v1/events");
  es.onopen = () => {
    $("conn").textContent = "live";
    $("conn").className = "badge on";
    scheduleRefresh(); // catch what finished between the first fetch and the subscription
  };
  es.onerror = () => { $("conn").textContent = "reconnecting…"; $("conn").className = "badge off"; };
  es.addEventListener("kpi", (e) => onKpi(JSON.parse(e.data)));
  es.addEventListener("round", (e) => {
    const r = JSON.parse(e.data);
    log("round " + r.round + " of " + r.negotiation_id + ": mean " + fmt(r.proposal.mean_mbps, 2) + " Mbps");
    scheduleRefresh();
  });
  es.addEventListener("consensus", (e) => {
    const c = JSON.parse(e.data);
    log(c.negotiation_id + ": " + c.status + " at " + fmt(c.consensus_mbps, 2) + " Mbps");
    scheduleRefresh();
  });
  es.addEventListener("policy", (e) => {
    const p = JSON.parse(e.data);
    log(p.negotiation_id + ": A1 policies " + p.policies.map((x) => x.policy_id).join(", "));
    scheduleRefresh();
  });
  es.addEventListener("enforced", (e) => {
    const x = JSON.parse(e.data);
    log(x.negotiation_id + ": policies enforced at gNB time " + fmt(x.gnb_time_s, 1) +
      " s (negotiation took " + fmt(x.negotiation_wall_s, 1) + " s wall time)");
    scheduleRefresh();
  });
  es.addEventListener("dropped", (e) => {
    const d = JSON.parse(e.data);
    $("kpi-dropped").textContent = d.dropped + " events dropped (slow reader)";
    scheduleRefresh();
  });
}

$("kpi-cell").addEventListener("change", (e) => {
  selectedCell = e.target.value;
  const cell = cells.get(selectedCell);
  if (cell) renderKpi(cell.latest);
});
refreshNegotiations();
connect();
