// latentspace explorer: plain JavaScript, no build step. Talks to the JSON/PNG API of app.py.
"use strict";

const COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
                "#bcbd22", "#17becf"];
const AXES = { latent: ["z[0]", "z[1]"], pca: ["PCA 1", "PCA 2"], tsne: ["t-SNE 1", "t-SNE 2"],
               umap: ["UMAP 1", "UMAP 2"] };
const UNLABELLED = "#4c72b0";  // every point of an unlabelled set (no classes, labels -1)
// a grid cell's colour follows its code (index mod 20), as in the run's code_grids.png (matplotlib's tab20)
const CODE_COLORS = ["#1f77b4", "#aec7e8", "#ff7f0e", "#ffbb78", "#2ca02c", "#98df8a", "#d62728", "#ff9896",
                     "#9467bd", "#c5b0d5", "#8c564b", "#c49c94", "#e377c2", "#f7b6d2", "#7f7f7f", "#c7c7c7",
                     "#bcbd22", "#dbdb8d", "#17becf", "#9edae5"];
const PAD = 48;  // canvas margin (CSS pixels) for the axes
// Images are shown at a whole multiple of their size (crisp pixels, CSS image-rendering: pixelated),
// the largest one that fits these many CSS pixels: 4x for 32 px images, 2x for 64 px, 5x for 28 px.
const IMAGE_PX = 144, STRIP_PX = 96;

const $ = (id) => document.getElementById(id);
const state = {
  runs: [], run: null, map: null, bounds: null, layer: null,
  cell: 0,           // discrete latents: the grid cell whose code the chooser sets
  selection: null,   // {z: number[], index: int|null, label: string, modified: bool}
  hover: null,       // the point or index under the mouse
  a: null, b: null,  // interpolation ends: {z, index|null, label}
  images: new Map(), // test index -> /image answer (cache for hovering)
};

// ---------------------------------------------------------------- API

async function api(path, body) {
  const opts = body === undefined ? {} : { method: "POST", headers: { "Content-Type": "application/json" },
                                           body: JSON.stringify(body) };
  const res = await fetch(path, opts);
  if (!res.ok) {
    let msg = `${res.status} ${res.statusText}`;
    try { msg = (await res.json()).detail || msg; } catch (e) { /* not JSON */ }
    throw new Error(msg);
  }
  return res.headers.get("Content-Type").startsWith("image/") ? res.blob() : res.json();
}

// ---------------------------------------------------------------- image sizes, classes

function displayScale(size, target) { return Math.max(1, Math.floor(target / size)); }

// CSS sizes of the decoded, test and reconstructed images and of the strips' images, from the run's image shape
function sizeImages(run) {
  const [, h, w] = run.image_shape, side = Math.max(h, w), root = document.documentElement.style;
  const big = displayScale(side, IMAGE_PX), small = displayScale(side, STRIP_PX);
  root.setProperty("--image-w", `${w * big}px`); root.setProperty("--image-h", `${h * big}px`);
  root.setProperty("--strip-w", `${w * small}px`); root.setProperty("--strip-h", `${h * small}px`);
}

const pointColor = (label) => (state.run.classes.length && label >= 0 ? COLORS[label % COLORS.length] : UNLABELLED);
// "test image #12 (Coat)", or "test image #12" in an unlabelled set
const imageName = (info) => `test image #${info.index}` + (info.class_name ? ` (${info.class_name})` : "");

function showError(e) {
  const box = $("error");
  if (!e) { box.hidden = true; return; }
  box.textContent = String(e.message || e);
  box.hidden = false;
}

// Live decoding: one request in flight, the latest wanted code waits; older ones are dropped.
const decoder = { busy: false, pending: null, url: null, count: 0 };
function decodeLive(z) {
  decoder.pending = z.slice();
  if (!decoder.busy) pumpDecode();
}
async function pumpDecode() {
  decoder.busy = true;
  while (decoder.pending) {
    const z = decoder.pending;
    decoder.pending = null;
    const run = state.run.name;
    try {
      const blob = await api("/api/decode", { run, z, ...classField() });
      if (run !== state.run.name) continue;
      const url = URL.createObjectURL(blob);
      const img = $("decoded");
      img.src = url;
      if (decoder.url) URL.revokeObjectURL(decoder.url);
      decoder.url = url;
      img.dataset.decodes = String(++decoder.count);
      showError(null);
    } catch (e) { showError(e); }
  }
  decoder.busy = false;
}

// the class a conditional run draws (the class picker), as a request field; nothing for other runs
function classField() {
  return state.run.conditional ? { label: parseInt($("class-select").value, 10) } : {};
}

function setClass(label) {
  if (state.run.conditional && label >= 0) $("class-select").value = String(label);
}

// ---------------------------------------------------------------- runs

// "latent 20", or for a grid of code indices "7 × 7 codes of 512"
const latentWords = (r) => (r.discrete ? `${r.latent_shape.join(" × ")} codes of ${r.codebook_size}`
                                       : `latent ${r.latent_dim}`);

async function init() {
  try {
    state.runs = (await api("/api/runs")).runs;
    const sel = $("run-select");
    for (const r of state.runs) {
      const o = document.createElement("option");
      o.value = r.name; o.textContent = `${r.name} (${r.kind}, ${latentWords(r)})`;
      sel.appendChild(o);
    }
    $("run-switcher").hidden = state.runs.length < 2;
    sel.addEventListener("change", () => loadRun(sel.value));
    await loadRun(state.runs[0].name);
  } catch (e) { showError(e); }
}

async function loadRun(name) {
  const run = state.runs.find((r) => r.name === name);
  state.run = run; state.map = null; state.selection = null; state.hover = null;
  state.a = state.b = null; state.images = new Map();
  $("interp-strip").replaceChildren(); $("sample-strip").replaceChildren();
  $("interp-ends").textContent = "pick A and B";
  const [c, h, w] = run.image_shape;
  sizeImages(run);
  $("run-info").textContent = `${run.kind}${run.conditional ? " (class-conditional)" : ""}, ${latentWords(run)}, `
    + `${c === 3 ? "colour" : "grey"} ${w} × ${h} images`
    + (run.classes.length ? "" : ", unlabelled")
    + (run.has_map ? `, ${run.n_test} test images, map: ${run.map_method}` : ", no encoder");
  $("sample").hidden = !run.can_sample;
  $("samples-block").hidden = !run.can_sample;
  const samplers = $("sampler-select");
  samplers.replaceChildren(...run.samplers.map((name, k) => {
    const o = document.createElement("option");
    o.value = name; o.textContent = k === 0 ? `${name} (default)` : name;
    return o;
  }));
  $("sampler-picker").hidden = !run.can_sample;
  const classes = $("class-select");
  classes.replaceChildren(...run.classes.map((name, c) => {
    const o = document.createElement("option");
    o.value = String(c); o.textContent = name;
    return o;
  }));
  $("class-picker").hidden = !run.conditional;
  $("map").hidden = !run.has_map; $("legend").hidden = !run.has_map; $("map-help").hidden = !run.has_map;
  $("no-map").hidden = run.has_map;
  $("original-fig").hidden = $("recon-fig").hidden = true;
  // discrete latents: a clickable grid of code indices and a code chooser instead of sliders
  $("sliders-block").hidden = run.discrete; $("codes-block").hidden = !run.discrete;
  $("interp-path").hidden = run.discrete;
  $("reset").textContent = run.discrete ? "Reset codes" : "Reset sliders";
  state.cell = 0;
  if (run.discrete) {
    for (const id of ["code-input", "code-range"]) { $(id).max = String(run.codebook_size - 1); }
    $("codes-title").textContent = `Code grid (${run.latent_shape.join(" × ")}, codes 0–${run.codebook_size - 1})`;
  }
  showError(null);
  if (run.has_map) {
    state.map = await api(`/api/runs/${encodeURIComponent(name)}/map`);
    if (state.run !== run) return;
    prepareMap();
    drawLegend();
    $("map-title").textContent = run.map_method === "latent" ? "Latent space (2-D)" :
      `Map of the latent codes (${run.map_method.toUpperCase()}${state.map.cached ? ", cached" : ""})`;
    $("map-help").textContent = run.map_method === "latent"
      ? "Hover: decode the point under the mouse. Click: select it (sliders start there)."
      : "Hover: the nearest test image, its reconstruction and code. Click: select it.";
    // start from the first test image's code
    const i = state.map.index[0];
    if (run.map_method === "latent") select({ z: [state.map.x[0], state.map.y[0]], index: null, label: "" });
    else await selectImage(i);
  } else {
    $("map-title").textContent = "No map";
    select({ z: new Array(run.latent_dim).fill(0), index: null, label: "z = 0" });
  }
}

// ---------------------------------------------------------------- map

function prepareMap() {
  const m = state.map;
  let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
  for (let k = 0; k < m.x.length; k++) {
    x0 = Math.min(x0, m.x[k]); x1 = Math.max(x1, m.x[k]); y0 = Math.min(y0, m.y[k]); y1 = Math.max(y1, m.y[k]);
  }
  const px = (x1 - x0) * 0.05 || 1, py = (y1 - y0) * 0.05 || 1;
  state.bounds = { x0: x0 - px, x1: x1 + px, y0: y0 - py, y1: y1 + py };
  if (state.run.map_method === "latent") {  // the 2-D space: the map covers the sliders' whole range
    const r = state.run;
    state.bounds = { x0: Math.min(r.low[0], x0), x1: Math.max(r.high[0], x1),
                     y0: Math.min(r.low[1], y0), y1: Math.max(r.high[1], y1) };
  }
  const canvas = $("map");
  const dpr = window.devicePixelRatio || 1;
  const w = canvas.clientWidth || 520, h = canvas.clientHeight || 520;
  canvas.width = w * dpr; canvas.height = h * dpr;
  const layer = document.createElement("canvas");
  layer.width = canvas.width; layer.height = canvas.height;
  const g = layer.getContext("2d");
  g.scale(dpr, dpr);
  g.fillStyle = "#fff"; g.fillRect(0, 0, w, h);
  const r = m.x.length > 3000 ? 1.5 : 2.5;
  g.globalAlpha = m.x.length > 3000 ? 0.55 : 0.8;
  for (let k = 0; k < m.x.length; k++) {
    const [cx, cy] = toCanvas(m.x[k], m.y[k]);
    g.fillStyle = pointColor(m.label[k]);
    g.fillRect(cx - r, cy - r, 2 * r, 2 * r);
  }
  g.globalAlpha = 1;
  // axes
  const [ax, ay] = AXES[state.run.map_method] || ["1", "2"];
  g.strokeStyle = "#999"; g.strokeRect(PAD, 4, w - PAD - 4, h - PAD - 4);
  g.fillStyle = "#444"; g.font = "12px system-ui, sans-serif"; g.textAlign = "center";
  g.fillText(ax, PAD + (w - PAD) / 2, h - 8);
  const b = state.bounds;
  const num = (v) => (Math.abs(v) >= 100 ? v.toFixed(0) : v.toPrecision(2));
  g.fillText(num(b.x0), PAD + 14, h - PAD + 14); g.fillText(num(b.x1), w - 22, h - PAD + 14);
  g.save(); g.translate(12, (h - PAD) / 2); g.rotate(-Math.PI / 2); g.fillText(ay, 0, 0); g.restore();
  g.textAlign = "right";
  g.fillText(num(b.y1), PAD - 3, 16); g.fillText(num(b.y0), PAD - 3, h - PAD);
  state.layer = layer;
  drawMap();
}

function toCanvas(x, y) {
  const c = $("map"), b = state.bounds;
  const w = c.clientWidth || 520, h = c.clientHeight || 520;
  return [PAD + (x - b.x0) / (b.x1 - b.x0) * (w - PAD - 4), 4 + (b.y1 - y) / (b.y1 - b.y0) * (h - PAD - 4)];
}

function fromCanvas(cx, cy) {
  const c = $("map"), b = state.bounds;
  const w = c.clientWidth || 520, h = c.clientHeight || 520;
  return [b.x0 + (cx - PAD) / (w - PAD - 4) * (b.x1 - b.x0), b.y1 - (cy - 4) / (h - PAD - 4) * (b.y1 - b.y0)];
}

// where a selection or end sits on the map: its code (2-D space) or its test image's point
function mapPosition(item) {
  if (!item || !state.map) return null;
  if (state.run.map_method === "latent") return [item.z[0], item.z[1]];
  if (item.index === null || item.index === undefined) return null;
  const k = state.map.index.indexOf(item.index);
  return k < 0 ? null : [state.map.x[k], state.map.y[k]];
}

function drawMap() {
  const canvas = $("map");
  if (!state.layer || canvas.hidden) return;
  const g = canvas.getContext("2d");
  const dpr = window.devicePixelRatio || 1;
  g.setTransform(1, 0, 0, 1, 0, 0);
  g.drawImage(state.layer, 0, 0);
  g.scale(dpr, dpr);
  const mark = (item, color, text) => {
    const p = mapPosition(item);
    if (!p) return;
    const [cx, cy] = toCanvas(p[0], p[1]);
    g.lineWidth = 2; g.strokeStyle = color;
    g.beginPath(); g.arc(cx, cy, 7, 0, 2 * Math.PI); g.stroke();
    if (text) { g.fillStyle = color; g.font = "bold 13px system-ui, sans-serif"; g.textAlign = "left";
                g.fillText(text, cx + 8, cy - 8); }
  };
  mark(state.a, "#d62728", "A");
  mark(state.b, "#1f77b4", "B");
  mark(state.selection, "#000", "");
}

function drawLegend() {
  const ul = $("legend");
  ul.replaceChildren();
  const entries = state.run.classes.length ? state.run.classes.map((name, c) => [name, pointColor(c)])
    : [["unlabelled", UNLABELLED]];
  for (const [name, color] of entries) {
    const li = document.createElement("li");
    const sw = document.createElement("span");
    sw.className = "swatch"; sw.style.background = color;
    li.append(sw, document.createTextNode(name));
    ul.appendChild(li);
  }
}

function nearestPoint(x, y) {
  const m = state.map, b = state.bounds;
  const sx = 1 / ((b.x1 - b.x0) ** 2), sy = 1 / ((b.y1 - b.y0) ** 2);
  let best = -1, bestD = Infinity;
  for (let k = 0; k < m.x.length; k++) {
    const d = (m.x[k] - x) ** 2 * sx + (m.y[k] - y) ** 2 * sy;
    if (d < bestD) { bestD = d; best = k; }
  }
  return best;
}

function eventPoint(ev) {
  const rect = $("map").getBoundingClientRect();
  return fromCanvas(ev.clientX - rect.left, ev.clientY - rect.top);
}

async function imageInfo(i) {
  if (!state.images.has(i)) {
    state.images.set(i, api(`/api/runs/${encodeURIComponent(state.run.name)}/image/${i}`));
  }
  try { return await state.images.get(i); }
  catch (e) { state.images.delete(i); throw e; }
}

function showImage(info) {
  $("original").src = info.image; $("reconstruction").src = info.reconstruction;
  $("original-caption").textContent = imageName(info);
  $("original-fig").hidden = $("recon-fig").hidden = false;
}

async function onMapMove(ev) {
  if (!state.map) return;
  const [x, y] = eventPoint(ev);
  if (state.run.map_method === "latent") {
    state.hover = [x, y];
    decodeLive([x, y]);
    $("selection-info").textContent = `hover: z = (${x.toFixed(3)}, ${y.toFixed(3)})`;
    return;
  }
  const i = state.map.index[nearestPoint(x, y)];
  if (state.hover === i) return;
  state.hover = i;
  if (hovering.busy) return;  // one image request at a time; the latest hovered one follows
  hovering.busy = true;
  try {
    let shown = null;
    while (state.hover !== null && state.hover !== shown) {
      shown = state.hover;
      const info = await imageInfo(shown);
      if (state.hover !== shown) continue;
      showImage(info);
      decodeLive(info.z);
      $("selection-info").textContent = `hover: ${imageName(info)}`;
    }
  } catch (e) { showError(e); }
  finally { hovering.busy = false; }
}
const hovering = { busy: false };

function onMapLeave() {
  state.hover = null;
  if (state.selection) showSelection();
}

async function onMapClick(ev) {
  if (!state.map) return;
  const [x, y] = eventPoint(ev);
  if (state.run.map_method === "latent") {
    select({ z: [x, y], index: null, label: `z = (${x.toFixed(3)}, ${y.toFixed(3)})` });
  } else {
    await selectImage(state.map.index[nearestPoint(x, y)]);
  }
}

// ---------------------------------------------------------------- selection and sliders

async function selectImage(i) {
  try {
    const info = await imageInfo(i);
    setClass(info.label);  // a conditional run decodes a test image's code with its own class
    select({ z: info.z, index: i, label: imageName(info), info });
  } catch (e) { showError(e); }
}

function select(sel) {
  state.selection = { ...sel, z: sel.z.slice(), original: sel.z.slice(), modified: false };
  buildLatentControls();
  showSelection();
}

function buildLatentControls() {
  if (state.run.discrete) buildCodeGrid(); else buildSliders();
}

function showSelection() {
  const s = state.selection;
  decodeLive(s.z);
  if (s.info) showImage(s.info);
  else $("original-fig").hidden = $("recon-fig").hidden = true;
  $("selection-info").textContent = "selected: " + (s.label || "code") + (s.modified ? ` (${changedWords()})` : "");
  drawMap();
}

const changedWords = () => (state.run.discrete ? "codes changed" : "sliders moved");

// ---------------------------------------------------------------- discrete latents: the grid of code indices

function buildCodeGrid() {
  const run = state.run, s = state.selection, box = $("code-grid");
  const [h, w] = run.latent_shape;
  box.style.gridTemplateColumns = `repeat(${w}, max-content)`;
  box.replaceChildren();
  for (let k = 0; k < h * w; k++) {
    const cell = document.createElement("button");
    Object.assign(cell, { type: "button", id: `cell-${k}`, className: "cell" });
    cell.dataset.cell = String(k);
    cell.title = `row ${Math.floor(k / w)}, column ${k % w}`;
    cell.addEventListener("click", () => chooseCell(k));
    box.appendChild(cell);
    paintCell(k);
  }
  chooseCell(Math.min(state.cell, h * w - 1));
}

function paintCell(k) {
  const s = state.selection, cell = $(`cell-${k}`), code = Math.round(s.z[k]);
  cell.textContent = String(code);
  cell.style.background = CODE_COLORS[code % CODE_COLORS.length];
  cell.classList.toggle("changed", code !== Math.round(s.original[k]));
  cell.classList.toggle("chosen", k === state.cell);
}

function chooseCell(k) {
  const prev = state.cell, w = state.run.latent_shape[1];
  state.cell = k;
  if ($(`cell-${prev}`)) paintCell(prev);
  paintCell(k);
  const code = String(Math.round(state.selection.z[k]));
  $("code-input").value = code; $("code-range").value = code;
  $("cell-name").textContent = `cell (${Math.floor(k / w)}, ${k % w})`;
}

function setCode(value) {
  const run = state.run, s = state.selection;
  const code = Math.round(Number(value));
  if (!s || !Number.isFinite(code) || code < 0 || code >= run.codebook_size) return;
  s.z[state.cell] = code;
  s.modified = s.z.some((v, k) => Math.round(v) !== Math.round(s.original[k]));
  $("code-input").value = String(code); $("code-range").value = String(code);
  paintCell(state.cell);
  decodeLive(s.z);
  $("selection-info").textContent = "selected: " + (s.label || "code") + (s.modified ? " (codes changed)" : "");
}

function buildSliders() {
  const run = state.run, s = state.selection, box = $("sliders");
  box.replaceChildren();
  const dims = run.slider_dims;
  $("sliders-title").textContent = `Latent code (${dims.length} of ${run.latent_dim} dimensions` +
    (run.slider_activity ? ", most active first" : "") + ")";
  dims.forEach((d, k) => {
    const lo = Math.min(run.low[d], s.z[d]), hi = Math.max(run.high[d], s.z[d]);
    const id = `slider-${d}`;
    const label = document.createElement("label");
    label.htmlFor = id;
    label.textContent = `z[${d}]`;
    if (run.slider_activity) label.title = `KL ${run.slider_activity[k].toFixed(3)} nats`;
    const input = document.createElement("input");
    Object.assign(input, { type: "range", id, min: lo, max: hi, step: (hi - lo) / 400 || 0.001, value: s.z[d] });
    input.dataset.dim = d;
    const out = document.createElement("output");
    out.htmlFor = id; out.textContent = (+s.z[d]).toFixed(3);
    input.addEventListener("input", () => {
      s.z[d] = parseFloat(input.value);
      s.modified = true;
      out.textContent = s.z[d].toFixed(3);
      decodeLive(s.z);
      $("selection-info").textContent = "selected: " + (s.label || "code") + " (sliders moved)";
      if (run.map_method === "latent") { s.label = `z = (${s.z[0].toFixed(3)}, ${s.z[1].toFixed(3)})`; drawMap(); }
    });
    box.append(label, input, out);
  });
}

function resetSliders() {
  const s = state.selection;
  if (!s) return;
  s.z = s.original.slice(); s.modified = false;
  buildLatentControls(); showSelection();
}

// ---------------------------------------------------------------- interpolation and samples

function setEnd(which) {
  const s = state.selection;
  if (!s) return;
  const label = state.run.map_method === "latent" ? `z = (${s.z[0].toFixed(3)}, ${s.z[1].toFixed(3)})`
    : s.label + (s.modified ? ` with ${changedWords()}` : "");
  state[which] = { z: s.z.slice(), index: s.modified ? null : s.index, label };
  drawMap();
  $("interp-ends").textContent = `A: ${state.a ? state.a.label : "?"}  →  B: ${state.b ? state.b.label : "?"}`;
  if (state.a && state.b) interpolate();
}

async function interpolate() {
  const end = (e) => (e.index !== null && e.index !== undefined ? e.index : e.z);
  try {
    const res = await api("/api/interpolate", { run: state.run.name, from: end(state.a), to: end(state.b),
                                                steps: 10, mode: $("interp-mode").value, ...classField() });
    fillStrip($("interp-strip"), res.images, (im) => `t = ${im.t.toFixed(2)}`);
    showError(null);
  } catch (e) { showError(e); }
}

async function sample() {
  try {
    const res = await api("/api/sample", { run: state.run.name, n: 10, sampler: $("sampler-select").value,
                                           ...classField() });
    fillStrip($("sample-strip"), res.images, (im, k) => `sample ${k + 1}`);
    showError(null);
  } catch (e) { showError(e); }
}

function fillStrip(strip, images, title) {
  strip.replaceChildren();
  images.forEach((im, k) => {
    const img = document.createElement("img");
    img.src = im.png; img.title = title(im, k) + " (click to select)"; img.alt = title(im, k);
    img.addEventListener("click", () => select({ z: im.z, index: null, label: title(im, k) }));
    strip.appendChild(img);
  });
}

// ---------------------------------------------------------------- wiring

$("map").addEventListener("mousemove", onMapMove);
$("map").addEventListener("mouseleave", onMapLeave);
$("map").addEventListener("click", onMapClick);
$("set-a").addEventListener("click", () => setEnd("a"));
$("set-b").addEventListener("click", () => setEnd("b"));
$("interp-mode").addEventListener("change", () => { if (state.a && state.b) interpolate(); });
$("reset").addEventListener("click", resetSliders);
$("code-input").addEventListener("change", (ev) => setCode(ev.target.value));
$("code-range").addEventListener("input", (ev) => setCode(ev.target.value));
$("sample").addEventListener("click", sample);
$("class-select").addEventListener("change", () => {
  if (state.selection) showSelection();
  if (state.a && state.b) interpolate();
});
window.addEventListener("resize", () => { if (state.map) prepareMap(); });
init();
