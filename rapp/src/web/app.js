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
      el("span", { class: "sub" }, " " + n.topic)),
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
  es.addEventListener("kpi", (e) => renderKpi(JSON.parse(e.data)));
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

refreshNegotiations();
connect();
