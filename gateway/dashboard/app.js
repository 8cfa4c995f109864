// The sitegate dashboard: /api/history once, then /api/status as Server-Sent
// Events over fetch (so that a bearer token can go in a header). No library,
// nothing from outside the gateway.
"use strict";

const HOUR = 3600;
const series = { import_kw: [], cap_kw: [], ev_kw: [] };
let token = sessionStorage.getItem("sitegate-token") || "";
let updates = 0;

const $ = (id) => document.getElementById(id);

function headers() {
  return token ? { Authorization: "Bearer " + token } : {};
}

function kw(v) {
  return v === null || v === undefined ? "–" : v.toFixed(1) + " kW";
}

function amps(v) {
  return v === null || v === undefined ? "–" : v.toFixed(1) + " A";
}

function badge(el, text, level) {
  el.textContent = text;
  el.className = "badge " + level;
}

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

function needToken() {
  $("login").hidden = false;
  badge($("live"), "token needed", "bad");
}

async function getJSON(path) {
  const r = await fetch(path, { headers: headers(), cache: "no-store" });
  if (r.status === 401) {
    needToken();
    throw new Error("unauthorized");
  }
  if (!r.ok) throw new Error(path + ": " + r.status);
  return r.json();
}

function push(name, v) {
  const a = series[name];
  a.push(v);
  if (a.length > HOUR) a.splice(0, a.length - HOUR);
}

function drawChart() {
  const c = $("chart");
  const ctx = c.getContext("2d");
  const w = c.width, h = c.height, left = 48, bottom = 22, top = 10;
  ctx.clearRect(0, 0, w, h);
  let max = 1;
  for (const a of Object.values(series))
    for (const v of a) if (v !== null && v > max) max = v;
  max *= 1.1;
  const y = (v) => top + (h - top - bottom) * (1 - v / max);
  const x = (i) => left + (w - left - 8) * (i / (HOUR - 1));
  ctx.strokeStyle = "#dde1e8";
  ctx.fillStyle = "#6b7385";
  ctx.font = "11px system-ui, sans-serif";
  for (let k = 0; k <= 4; k++) {
    const v = (max * k) / 4;
    ctx.beginPath();
    ctx.moveTo(left, y(v));
    ctx.lineTo(w - 8, y(v));
    ctx.stroke();
    ctx.fillText(v.toFixed(0) + " kW", 4, y(v) + 4);
  }
  ctx.fillText("-60 min", left, h - 6);
  ctx.fillText("-30 min", x(HOUR / 2) - 18, h - 6);
  ctx.fillText("now", w - 30, h - 6);
  const colors = { import_kw: "#d9480f", cap_kw: "#c92a2a", ev_kw: "#1971c2" };
  for (const [name, a] of Object.entries(series)) {
    ctx.strokeStyle = colors[name];
    ctx.lineWidth = name === "cap_kw" ? 2 : 1.5;
    ctx.setLineDash(name === "cap_kw" ? [6, 4] : []);
    ctx.beginPath();
    let pen = false;
    const offset = HOUR - a.length;
    a.forEach((v, i) => {
      if (v === null) {
        pen = false;
        return;
      }
      if (pen) ctx.lineTo(x(offset + i), y(v));
      else ctx.moveTo(x(offset + i), y(v));
      pen = true;
    });
    ctx.stroke();
  }
  ctx.setLineDash([]);
}

function renderConnectors(chargers) {
  const root = $("connectors");
  root.replaceChildren();
  for (const ch of chargers) {
    const box = el("div", "charger" + (ch.online ? "" : " offline"));
    box.dataset.charger = ch.id;
    const head = el("div", "head");
    head.append(el("span", "id", ch.id));
    const flags = [ch.online ? "online " + (ch.ocpp || "") : "offline", "upstream " + ch.upstream];
    if (ch.offline) flags.push("answered locally");
    if (ch.following === false) flags.push("NOT following its limit");
    if (ch.over_limit) flags.push("above its limit");
    if (ch.queue_depth) flags.push(ch.queue_depth + " queued");
    flags.push("limit " + amps(ch.limit_a));
    head.append(el("span", "flags", flags.join(" · ")));
    box.append(head);
    const scale = Math.max(ch.max_current_a || 32, 1);
    for (const cn of ch.connectors) {
      const row = el("div", "connector");
      row.dataset.charger = ch.id;
      row.dataset.connector = cn.id;
      row.dataset.state = cn.state;
      row.append(el("span", "state", "#" + cn.id + " " + cn.state));
      const bar = el("div", "bar");
      const draw = el("div", "draw");
      draw.style.width = (100 * Math.min(cn.draw_a || 0, scale)) / scale + "%";
      const alloc = el("div", "alloc");
      alloc.style.width = (100 * Math.min(cn.allocation_a || 0, scale)) / scale + "%";
      bar.append(draw, alloc);
      row.append(bar);
      row.append(el("span", "nums", "draw " + amps(cn.draw_a) + " / alloc " + amps(cn.allocation_a)));
      box.append(row);
    }
    root.append(box);
  }
}

function renderMeters(meters) {
  const root = $("meters");
  root.replaceChildren();
  if (!meters.length) root.append(el("span", "meter", "no meter configured"));
  for (const m of meters) {
    const age = m.age_s === null ? "never read" : m.age_s.toFixed(1) + " s ago";
    const err = m.last_error ? " (" + m.last_error + ")" : "";
    root.append(el("span", "meter", m.name + " [" + m.role + "]: " + m.state + ", " + age +
                   ", " + m.poll_errors + " errors" + err));
  }
}

function render(s) {
  $("site-id").textContent = s.site.id;
  document.title = s.site.id + " · sitegate";
  $("import").textContent = kw(s.grid.import_kw);
  $("cap").textContent = kw(s.limits.cap_kw);
  $("cap-source").textContent = s.limits.cap_source ? "set by " + s.limits.cap_source : "";
  $("ev").textContent = kw(s.ev.load_kw);
  $("budget").textContent = "EV budget " + kw(s.limits.budget_kw);
  const binding = s.limits.binding;
  $("binding").textContent = !binding ? "–" : binding === "none" ? "none" : s.limits.binding_source || binding;
  $("binding-why").textContent = binding === "none" ? "every car gets its maximum"
    : binding ? "holds the cars back (" + binding + ")" : "";
  const up = s.upstream;
  const wanOk = up.mode === "aggregate" ? up.site === "open" : up.open > 0 && up.open >= s.chargers.filter((c) => c.online).length;
  badge($("wan"), "WAN " + (up.mode === "aggregate" ? up.site : up.open + "/" + s.chargers.filter((c) => c.online).length + " up"),
        wanOk ? "ok" : "bad");
  const meter = s.grid.meter;
  badge($("meter"), "meter " + meter, meter === "ok" ? "ok" : meter === "none" ? "" : "bad");
  const dr = s.demand_response;
  if (!dr) badge($("dr"), "DR off", "");
  else if (dr.event) badge($("dr"), "DR " + dr.event + ": " + kw(dr.limit_kw), "warn");
  else badge($("dr"), "DR none (mqtt " + dr.mqtt + ")", dr.mqtt === "up" ? "ok" : "bad");
  renderConnectors(s.chargers);
  renderMeters(s.meters);
  updates++;
  const u = $("updated");
  u.dataset.updates = String(updates);
  u.textContent = "updated " + s.site.time + " · queue " + (s.queue.depth ?? "–") + " · uptime " + s.site.uptime_s + " s";
}

function onStatus(s) {
  push("import_kw", s.grid.import_kw);
  push("cap_kw", s.limits.cap_kw);
  push("ev_kw", s.ev.load_kw);
  render(s);
  drawChart();
}

// Reads the SSE stream; resolves when it ends.
async function stream() {
  const r = await fetch("/api/stream", { headers: headers(), cache: "no-store" });
  if (r.status === 401) {
    needToken();
    throw new Error("unauthorized");
  }
  if (!r.ok || !r.body) throw new Error("stream: " + r.status);
  badge($("live"), "live", "ok");
  const reader = r.body.getReader();
  const dec = new TextDecoder();
  let buf = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buf += dec.decode(value, { stream: true });
    let end;
    while ((end = buf.indexOf("\n\n")) >= 0) {
      const block = buf.slice(0, end);
      buf = buf.slice(end + 2);
      const data = block.split("\n").filter((l) => l.startsWith("data: ")).map((l) => l.slice(6)).join("\n");
      if (data) onStatus(JSON.parse(data));
    }
  }
}

async function start() {
  try {
    const h = await getJSON("/api/history");
    series.import_kw = h.import_kw;
    series.cap_kw = h.cap_kw;
    series.ev_kw = h.ev_kw;
    drawChart();
  } catch (e) {
    if (e.message === "unauthorized") return;
  }
  for (;;) {
    try {
      await stream();
    } catch (e) {
      if (e.message === "unauthorized") return;
    }
    badge($("live"), "reconnecting", "bad");
    await new Promise((r) => setTimeout(r, 2000));
  }
}

$("login").addEventListener("submit", (ev) => {
  ev.preventDefault();
  token = $("token").value.trim();
  sessionStorage.setItem("sitegate-token", token);
  $("login").hidden = true;
  start();
});

drawChart();
start();
