/**
 * The coordinator's dashboard (served at `/` by coordinator-http.ts): one self-contained page, no external assets.
 * It opens `/events` (Server-Sent Events, a JSON snapshot a second, losses and events incremental) and draws the
 * loss curves (inline SVG), each rank's step split (compute / all-reduce / data wait), the ring's members and their
 * health, the newest sample grid and the run's events. The run token, when the page was opened with `?token=`, is
 * passed on to every request it makes. Everything from the run is written with textContent, never as HTML.
 * Test: node --import tsx --test test/dashboard.test.ts (a real Chromium)
 */
export const DASHBOARD_HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>gan-train dashboard</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font:14px system-ui,sans-serif;margin:0;background:#f6f7f9;color:#222}
header{background:#1f2933;color:#fff;padding:10px 16px;display:flex;gap:18px;align-items:baseline;flex-wrap:wrap}
header h1{font-size:18px;margin:0}
.pill{padding:2px 8px;border-radius:10px;background:#52606d}
.pill.training{background:#2f855a}.pill.reforming,.pill.stopping{background:#b7791f}.pill.failed{background:#c53030}.pill.finished{background:#2b6cb0}
main{display:grid;grid-template-columns:repeat(auto-fit,minmax(420px,1fr));gap:12px;padding:12px}
section{background:#fff;border-radius:6px;padding:10px 14px;box-shadow:0 1px 2px #0002}
h2{font-size:15px;margin:0 0 8px}
svg{width:100%;height:220px;background:#fbfbfc}
table{border-collapse:collapse;width:100%}td,th{text-align:left;padding:3px 6px;border-bottom:1px solid #eee}
.ok{color:#2f855a}.silent{color:#b7791f}.dead,.failed{color:#c53030}.left{color:#777}
.bar{display:flex;height:16px;background:#eee;margin:2px 0 8px}.bar div{height:100%}
.c{background:#3182ce}.a{background:#dd6b20}.w{background:#805ad5}.o{background:#a0aec0}
.key span{display:inline-block;width:10px;height:10px;margin:0 4px 0 10px}
#events{list-style:none;padding:0;margin:0;max-height:320px;overflow:auto}#events li{padding:2px 0;border-bottom:1px solid #f0f0f0}
#events time{color:#777;margin-right:6px}#events .lost,#events .failed{color:#c53030}#events .generation{color:#2b6cb0}#events .finished{color:#2f855a}
#sample{image-rendering:pixelated;max-width:100%}
</style></head>
<body>
<header><h1>gan-train</h1><span id="state" class="pill">connecting</span>
<span>step <b id="step">0</b> / <span id="total">?</span></span>
<span>generation <b id="generation">0</b></span>
<span>workers <b id="size">0</b> / <span id="wanted">?</span></span>
<span>lost <b id="failures">0</b> · re-formed <b id="restarts">0</b></span>
<span id="conn"></span></header>
<main>
<section><h2>Losses (rank 0) <small class="key"><span style="background:#c53030"></span>D <span style="background:#3182ce"></span>G</small></h2>
<svg id="loss" viewBox="0 0 600 220" preserveAspectRatio="none"></svg><div id="lossinfo"></div></section>
<section><h2>Step time per rank <small class="key"><span class="c"></span>compute <span class="a"></span>all-reduce <span class="w"></span>data wait <span class="o"></span>other</small></h2>
<div id="split"></div></section>
<section><h2>Ring membership</h2><table><thead><tr><th>rank</th><th>address</th><th>step</th><th>health</th><th>last heard</th></tr></thead>
<tbody id="members"></tbody></table></section>
<section id="samplebox" hidden><h2>Latest samples <small id="samplestep"></small></h2><img id="sample" alt="latest fake sample grid"></section>
<section><h2>Events</h2><ol id="events"></ol></section>
</main>
<script>
"use strict";
const token = new URLSearchParams(location.search).get("token");
const withToken = (p) => token ? p + (p.includes("?") ? "&" : "?") + "token=" + encodeURIComponent(token) : p;
const $ = (id) => document.getElementById(id);
const losses = [];
let sampleStep = null;
// A reconnected stream starts from the beginning: keep only what is new.
let lossSeq = 0, eventSeq = 0;

function el(tag, text, cls) {
  const e = document.createElement(tag);
  if (text !== undefined) e.textContent = text;
  if (cls) e.className = cls;
  return e;
}

function drawLosses() {
  const svg = $("loss");
  svg.replaceChildren();
  if (losses.length < 2) return;
  const W = 600, H = 220, P = 4;
  const x0 = losses[0].step, x1 = losses[losses.length - 1].step || 1;
  const ys = losses.flatMap((p) => [p.d_loss, p.g_loss]);
  const lo = Math.min(...ys), hi = Math.max(...ys), span = hi - lo || 1;
  const line = (key, color) => {
    const d = losses.map((p, i) => (i ? "L" : "M") + (P + (W - 2 * P) * (p.step - x0) / ((x1 - x0) || 1)).toFixed(1) + "," + (H - P - (H - 2 * P) * (p[key] - lo) / span).toFixed(1)).join("");
    const path = document.createElementNS("http://www.w3.org/2000/svg", "path");
    path.setAttribute("d", d); path.setAttribute("fill", "none"); path.setAttribute("stroke", color);
    path.setAttribute("stroke-width", "1.5"); path.setAttribute("vector-effect", "non-scaling-stroke");
    svg.appendChild(path);
  };
  line("d_loss", "#c53030");
  line("g_loss", "#3182ce");
  const last = losses[losses.length - 1];
  $("lossinfo").textContent = "steps " + x0 + "–" + last.step + ", range " + lo.toFixed(3) + " … " + hi.toFixed(3) + "; last D " + last.d_loss.toFixed(3) + ", G " + last.g_loss.toFixed(3);
}

function drawSplit(ranks) {
  const box = $("split");
  box.replaceChildren();
  const max = Math.max(1, ...ranks.map((r) => r.step_ms));
  for (const r of ranks) {
    const other = Math.max(0, r.step_ms - r.compute_ms - r.allreduce_ms - r.data_wait_ms);
    const row = el("div", "rank " + r.rank + " · step " + r.step + " · " + r.step_ms.toFixed(0) + " ms: compute " + r.compute_ms.toFixed(0) +
      ", all-reduce " + r.allreduce_ms.toFixed(0) + ", data wait " + r.data_wait_ms.toFixed(0) + " ms");
    row.dataset.rank = r.rank;
    const bar = el("div", undefined, "bar");
    for (const [ms, cls] of [[r.compute_ms, "c"], [r.allreduce_ms, "a"], [r.data_wait_ms, "w"], [other, "o"]]) {
      const seg = el("div", undefined, cls);
      seg.style.width = (100 * ms / max) + "%";
      bar.appendChild(seg);
    }
    box.append(row, bar);
  }
}

function drawMembers(members) {
  $("members").replaceChildren(...members.map((m) => {
    const tr = el("tr");
    tr.append(el("td", String(m.rank)), el("td", m.address), el("td", String(m.step)), el("td", m.health, m.health), el("td", (m.lastSeenMs / 1000).toFixed(1) + " s ago"));
    return tr;
  }));
}

function addEvents(events) {
  const list = $("events");
  for (const e of events.filter((x) => x.seq > eventSeq)) {
    eventSeq = e.seq;
    const li = el("li", undefined, e.kind);
    li.dataset.kind = e.kind;
    li.append(el("time", new Date(e.t).toLocaleTimeString()), document.createTextNode(e.text));
    list.prepend(li);
  }
  while (list.children.length > 200) list.lastChild.remove();
}

function render(s) {
  const st = s.status;
  $("state").textContent = st.state;
  $("state").className = "pill " + st.state;
  $("step").textContent = st.step;
  $("total").textContent = st.total_steps;
  $("generation").textContent = st.generation;
  $("size").textContent = st.world_size;
  $("wanted").textContent = st.workers;
  $("failures").textContent = s.counters.failures;
  $("restarts").textContent = s.counters.restarts;
  const fresh = s.losses.filter((p) => p.seq > lossSeq);
  if (fresh.length) lossSeq = fresh[fresh.length - 1].seq;
  losses.push(...fresh);
  if (losses.length > 2000) losses.splice(0, losses.length - 2000);
  if (fresh.length) drawLosses();
  drawSplit(s.ranks);
  drawMembers(s.members);
  addEvents(s.events);
  if (s.sample_step !== null && s.sample_step !== sampleStep) {
    sampleStep = s.sample_step;
    $("sample").src = withToken("/samples/latest.png?step=" + sampleStep);
    $("samplestep").textContent = "step " + sampleStep;
    $("samplebox").hidden = false;
  }
}

const source = new EventSource(withToken("/events"));
source.onopen = () => { $("conn").textContent = "live"; };
source.onmessage = (m) => render(JSON.parse(m.data));
source.onerror = () => { $("conn").textContent = "disconnected (the coordinator is gone or restarting)"; };
</script>
</body></html>
`;
