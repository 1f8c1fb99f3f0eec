// The live view (viz.live, viz/browser/live.py): an anywidget ES module. render() builds the
// view once from the model's _geometry (units, edges, headers: computed once in Python) and
// redraws the parts that change: _state (edge values, a and δ, layer gradients), _loss (only
// the new points of the curves), _boundary (the class grid), status, paused, _frames (the
// recorded states, for the scrub slider once training has ended). The browser sets paused,
// _once (step once), speed and edges (weight or grad).

var SVG = "http://www.w3.org/2000/svg";

function el(tag, attrs, parent, text) {
  var node = tag.indexOf("svg:") === 0 ? document.createElementNS(SVG, tag.slice(4)) : document.createElement(tag);
  Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
  if (text !== undefined) node.textContent = text;
  if (parent) parent.appendChild(node);
  return node;
}

// 3 significant digits, as Python's format(v, ".3g") does
// Edge values, a and δ arrive as binary buffers of little-endian float32 (DataView; Python
// sends them so, with nothing to build or walk per number): back to numbers, nan as null.
function floats(v) {
  if (v === null || v === undefined || Array.isArray(v)) return v === undefined ? null : v;
  var view = v instanceof DataView ? v : new DataView(v.buffer || v, v.byteOffset || 0, v.byteLength);
  var out = new Array(view.byteLength / 4);
  for (var i = 0; i < out.length; i++) {
    var x = view.getFloat32(4 * i, true);
    out[i] = isFinite(x) ? x : null;
  }
  return out;
}

function decoded(frame) {
  if (!frame) return frame;
  return Object.assign({}, frame, { w: floats(frame.w), g: floats(frame.g), a: floats(frame.a), d: floats(frame.d) });
}

function fmt(v) {
  if (v === null || v === undefined) return "nan";
  var a = Math.abs(v);
  if (a !== 0 && (a < 1e-4 || a >= 1e6)) return v.toExponential(2).replace(/\.?0+e/, "e").replace("e+", "e+0").replace(/e([+-])0?(\d\d)/, "e$1$2");
  return String(Number(v.toPrecision(3)));
}

function hex2(x) { var s = Math.round(x * 255).toString(16); return s.length < 2 ? "0" + s : s; }

// blue > 0, orange < 0, grey 0 (dashed grey: nan); width and opacity by |v| / the largest |v|
function edgeStyle(values, geo) {
  var vmax = 0;
  values.forEach(function (v) { if (v !== null && Math.abs(v) > vmax) vmax = Math.abs(v); });
  return values.map(function (v) {
    if (v === null) return { stroke: geo.colors.zero, width: geo.widths[0], dash: "3 2" };
    var r = vmax > 0 ? Math.abs(v) / vmax : 0;
    var color = v > 0 ? geo.colors.positive : v < 0 ? geo.colors.negative : geo.colors.zero;
    var alpha = v === 0 ? 0.5 : geo.min_alpha + (1 - geo.min_alpha) * r;
    return { stroke: color + hex2(alpha), width: geo.widths[0] + (geo.widths[1] - geo.widths[0]) * r, dash: "" };
  });
}

function mix(color, alpha) {
  return [1, 3, 5].map(function (i) { var c = parseInt(color.slice(i, i + 2), 16); return Math.round(255 + (c - 255) * alpha); });
}

function render(context) {
  var model = context.model, root = context.el;
  var geo = model.get("_geometry");
  var view = el("div", { class: "cr-live" }, root);
  var listeners = [];
  function on(name, fn) { model.on("change:" + name, fn); listeners.push([name, fn]); }

  // ---- the controls -------------------------------------------------------------------
  var bar = el("div", { class: "cr-live-bar" }, view);
  var pause = el("button", { type: "button", class: "cr-live-pause", title: "pause or resume view.run()'s training" }, bar, "pause");
  var once = el("button", { type: "button", class: "cr-live-once", title: "one training step while paused" }, bar, "step once");
  var speedLabel = el("label", { class: "cr-live-speedlabel" }, bar, "speed ");
  var speed = el("input", { type: "range", class: "cr-live-speed", min: "1", max: "10", step: "1", "aria-label": "speed" }, speedLabel);
  var show = el("button", { type: "button", class: "cr-live-show", "aria-pressed": "false", title: "edges show the weights w or their gradients ∂L/∂w" }, bar);
  var stepText = el("span", { class: "cr-live-step", "aria-live": "off" }, bar, "step 0");
  var status = el("span", { class: "cr-live-status" }, bar);

  // ---- the network ----------------------------------------------------------------------
  var net = el("svg:svg", { class: "cr-live-net", width: String(geo.width), height: String(geo.height),
    viewBox: "0 0 " + geo.width + " " + geo.height, role: "img", "aria-label": "network diagram" }, view);
  var edgeGroup = el("svg:g", {}, net), unitGroup = el("svg:g", {}, net);
  var edges = geo.edges.map(function (e, i) {
    var a = geo.units[e[0]], b = geo.units[e[1]];
    return el("svg:line", { class: "cr-live-edge", "data-edge": String(i), x1: a.x, y1: a.y, x2: b.x, y2: b.y,
      stroke: geo.colors.zero, "stroke-width": "1" }, edgeGroup);
  });
  var units = geo.units.map(function (u) {
    var g = el("svg:g", { class: "cr-live-unit" + (u.col === 0 ? " cr-live-input" : "") }, unitGroup);
    var title = el("svg:title", {}, g, u.name);
    el("svg:circle", { cx: u.x, cy: u.y, r: geo.radius }, g);
    var value = el("svg:text", { x: u.x, y: u.y + 4, "text-anchor": "middle", class: "cr-live-a" }, g, u.name);
    var delta = el("svg:text", { x: u.x, y: u.y + geo.radius + 11, "text-anchor": "middle", class: "cr-live-d" }, g, "");
    return { title: title, value: value, delta: delta, name: u.name };
  });
  geo.headers.forEach(function (h) {
    el("svg:text", { x: h.x, y: 13, "text-anchor": "middle", class: "cr-live-head" }, net, h.lines[0]);
    el("svg:text", { x: h.x, y: 27, "text-anchor": "middle", class: "cr-live-sub" }, net, h.lines[1] || "");
  });
  geo.markers.forEach(function (m) { el("svg:text", { x: m.x, y: m.y, "text-anchor": "middle", class: "cr-live-sub" }, net, m.text); });
  var legend = el("div", { class: "cr-live-legend" }, view);

  // ---- the panels: loss, boundary, gradients ------------------------------------------
  var panels = el("div", { class: "cr-live-panels" }, view);
  var lossBox = el("div", { class: "cr-live-panel" }, panels);
  el("div", { class: "cr-live-title" }, lossBox, "loss per step");
  var LW = 430, LH = 150, LX = 48, LY = 6;
  var lossSvg = el("svg:svg", { width: String(LW + LX + 10), height: String(LH + LY + 22), class: "cr-live-chart" }, lossBox);
  el("svg:rect", { x: LX, y: LY, width: LW, height: LH, class: "cr-live-frame" }, lossSvg);
  var valLine = el("svg:polyline", { class: "cr-live-val", fill: "none", points: "" }, lossSvg);
  var lossLine = el("svg:polyline", { class: "cr-live-loss", fill: "none", points: "" }, lossSvg);
  var marker = el("svg:line", { class: "cr-live-marker", y1: LY, y2: LY + LH, x1: -10, x2: -10 }, lossSvg);
  var hiText = el("svg:text", { x: LX - 4, y: LY + 9, "text-anchor": "end", class: "cr-live-sub" }, lossSvg);
  var loText = el("svg:text", { x: LX - 4, y: LY + LH, "text-anchor": "end", class: "cr-live-sub" }, lossSvg);
  var lastText = el("svg:text", { x: LX + LW, y: LY + LH + 14, "text-anchor": "end", class: "cr-live-sub" }, lossSvg);
  var keyText = el("svg:text", { x: LX, y: LY + LH + 14, class: "cr-live-sub" }, lossSvg);

  var bInfo = geo.boundary, canvas = null, bTitle = null;
  if (bInfo) {
    var bBox = el("div", { class: "cr-live-panel" }, panels);
    bTitle = el("div", { class: "cr-live-title" }, bBox, "decision boundary");
    var holder = el("div", { class: "cr-live-bholder" }, bBox);
    canvas = el("canvas", { width: String(bInfo.grid), height: String(bInfo.grid), class: "cr-live-canvas" }, holder);
    var pts = el("svg:svg", { width: "170", height: "170", viewBox: "0 0 170 170", class: "cr-live-points" }, holder);
    var ex = bInfo.extent;
    bInfo.points.forEach(function (p) {
      el("svg:circle", { cx: (170 * (p[0] - ex[0]) / (ex[1] - ex[0])).toFixed(1), cy: (170 * (ex[3] - p[1]) / (ex[3] - ex[2])).toFixed(1),
        r: "2.5", fill: bInfo.colors[p[2]], class: "cr-live-point" }, pts);
    });
    var key = el("div", { class: "cr-live-sub" }, bBox);
    bInfo.labels.forEach(function (label, i) {
      el("span", { class: "cr-live-swatch", style: "background:" + bInfo.colors[i] }, key);
      key.appendChild(document.createTextNode(" y = " + label + "  "));
    });
    if (bInfo.points.length < bInfo.n_points) key.appendChild(document.createTextNode("(" + bInfo.points.length + " of " + bInfo.n_points + " points)"));
  }
  var gBox = el("div", { class: "cr-live-panel cr-live-grads" }, panels);
  el("div", { class: "cr-live-title" }, gBox, "mean |∂L/∂W| per layer");
  var gSvg = el("svg:svg", { width: "230", height: String(18 * geo.layers.length + 4) }, gBox);
  var gBars = geo.layers.map(function (name, k) {
    el("svg:text", { x: 0, y: 18 * k + 12, class: "cr-live-sub" }, gSvg, name);
    return { bar: el("svg:rect", { x: 40, y: 18 * k + 2, height: 12, width: 0, class: "cr-live-bar-rect" }, gSvg),
      text: el("svg:text", { x: 44, y: 18 * k + 12, class: "cr-live-sub" }, gSvg, "") };
  });

  var scrubBar = el("div", { class: "cr-live-scrubbar" }, view);
  var scrub = el("input", { type: "range", class: "cr-live-scrub", min: "0", max: "0", step: "1", value: "0", disabled: "", "aria-label": "recorded step" }, scrubBar);
  var scrubText = el("span", { class: "cr-live-sub" }, scrubBar, "the slider scrubs back through the recorded steps once training has ended");

  // ---- drawing ---------------------------------------------------------------------------
  var curves = { train: [], val: [] }, shown = null, scrubbing = false;

  function drawNetwork(state) {
    var grad = model.get("edges") === "grad" && state.g;
    var values = grad ? state.g : state.w;
    edgeStyle(values, geo).forEach(function (s, i) {
      var e = edges[i];
      e.setAttribute("stroke", s.stroke); e.setAttribute("stroke-width", s.width.toFixed(2));
      if (s.dash) e.setAttribute("stroke-dasharray", s.dash); else e.removeAttribute("stroke-dasharray");
    });
    units.forEach(function (u, k) {
      var a = state.a ? state.a[k] : null, d = state.d ? state.d[k] : null;
      u.value.textContent = state.a ? fmt(a) : u.name;
      u.delta.textContent = d !== null && d !== undefined ? "δ " + fmt(d) : "";
      u.title.textContent = u.name + (state.a ? (k < geo.units.length && geo.units[k].col === 0 ? " = " : ": a = ") + fmt(a) : "") +
        (d !== null && d !== undefined ? ", δ = ∂L/∂z = ∂L/∂b = " + fmt(d) + " (the last backward's loss)" : "");
    });
    var what = grad ? "∂L/∂w" : "w";
    show.textContent = grad ? "edges: ∂L/∂w" : "edges: w";
    show.setAttribute("aria-pressed", grad ? "true" : "false");
    legend.textContent = "edges: " + what + ", blue > 0, orange < 0, width and opacity by |" + what + "| (relative to the largest)" +
      (model.get("edges") === "grad" && !state.g ? "; no gradients yet, showing w" : "") +
      (state.a ? "; circles: a = f(z) on the chosen input" : "") + (state.d ? "; δ = ∂L/∂z = ∂L/∂b of the last backward (its whole batch, not only this input)" : "") +
      (edges.length < geo.edges_total ? "; " + edges.length + " of " + geo.edges_total + " connections drawn" : "");
    stepText.textContent = "step " + state.step;
    var top = 0;
    state.gl.forEach(function (v) { top = Math.max(top, v); });
    state.gl.forEach(function (v, k) {
      var w = top > 0 ? 120 * v / top : 0;
      gBars[k].bar.setAttribute("width", w.toFixed(1));
      gBars[k].text.setAttribute("x", (44 + w).toFixed(1)); gBars[k].text.textContent = state.g ? fmt(v) : "no backward yet";
    });
  }

  function drawBoundary(b) {
    if (!canvas || !b || !b.cells) return;
    var n = bInfo.grid, ctx = canvas.getContext("2d"), img = ctx.createImageData(n, n);
    var palette = bInfo.colors.map(function (c) { return mix(c, 0.35); });
    for (var i = 0; i < n * n; i++) {
      var rgb = palette[b.cells.charCodeAt(i) - 48] || [128, 128, 128];
      img.data[4 * i] = rgb[0]; img.data[4 * i + 1] = rgb[1]; img.data[4 * i + 2] = rgb[2]; img.data[4 * i + 3] = 255;
    }
    ctx.putImageData(img, 0, 0);
    bTitle.textContent = "decision boundary (step " + b.step + ")";
  }

  function drawLoss(upTo) {
    var all = curves.train.concat(curves.val), lo = Infinity, hi = -Infinity, last = 1;
    all.forEach(function (p) { if (p[1] !== null) { lo = Math.min(lo, p[1]); hi = Math.max(hi, p[1]); } last = Math.max(last, p[0]); });
    if (!isFinite(lo)) { lossLine.setAttribute("points", ""); valLine.setAttribute("points", ""); return; }
    lo = Math.min(0, lo); if (!(hi > lo)) hi = lo + 1;
    function points(series) {
      var stride = Math.max(1, Math.ceil(series.length / 1500)), out = [];
      for (var i = 0; i < series.length; i += stride) {
        var p = series[i];
        if (p[1] !== null) out.push((LX + LW * p[0] / last).toFixed(1) + "," + (LY + LH * (1 - (p[1] - lo) / (hi - lo))).toFixed(1));
      }
      return out.join(" ");
    }
    lossLine.setAttribute("points", points(curves.train));
    valLine.setAttribute("points", points(curves.val));
    hiText.textContent = fmt(hi); loText.textContent = fmt(lo); lastText.textContent = "step " + last;
    keyText.textContent = curves.val.length ? "— training   ‑ ‑ validation" : "— training";
    var x = upTo === undefined ? -10 : LX + LW * upTo / last;
    marker.setAttribute("x1", x); marker.setAttribute("x2", x);
  }

  function onLoss() {
    var chunk = model.get("_loss"), stale = false;
    ["train", "val"].forEach(function (key) {
      var c = chunk[key];
      if (!c) return;
      if (c.start > curves[key].length) { stale = true; return; }
      curves[key].length = c.start;
      Array.prototype.push.apply(curves[key], c.points);
    });
    if (stale) model.send({ type: "resync" });
    drawLoss(scrubbing ? shown.step : undefined);
  }

  function onState() {
    if (scrubbing) return;
    shown = decoded(model.get("_state"));
    if (shown && shown.w) drawNetwork(shown);
  }

  function onControls() {
    var paused = model.get("paused"), st = model.get("status"), driver = model.get("driver");
    pause.textContent = paused ? "resume" : "pause";
    once.disabled = !paused;
    speed.value = String(model.get("speed"));
    var ended = st === "ended";
    pause.disabled = ended;                    // nothing left to pause once training ended
    var text = st;
    if (st === "running" && driver !== "thread") text = "training in the running cell: pause, step and speed act on view.run(...) only";
    else if (st === "running") text = "running (view.run)";
    else if (ended) text = "ended";
    else if (st === "ready") text = "ready: no step yet";
    status.textContent = text;
    view.setAttribute("data-status", st);
    var frames = model.get("_frames");
    scrub.disabled = !(ended && frames.length > 1);
    if (!ended && scrubbing) { scrubbing = false; onState(); drawLoss(); }
    if (ended && frames.length > 1) {
      scrub.max = String(frames.length - 1);
      if (!scrubbing) { scrub.value = scrub.max; scrubText.textContent = frames.length + " recorded steps: drag to look back"; }
    }
  }

  function onScrub() {
    var frames = model.get("_frames"), k = parseInt(scrub.value, 10), f = decoded(frames[k]);
    if (!f) return;
    scrubbing = k < frames.length - 1;
    shown = f;
    drawNetwork(f);
    for (var j = k; j >= 0; j--) if (frames[j].b) { drawBoundary(frames[j].b); break; }
    drawLoss(scrubbing ? f.step : undefined);
    scrubText.textContent = "recorded state " + (k + 1) + " of " + frames.length + " (step " + f.step + ")";
    if (!scrubbing) drawBoundary(model.get("_boundary"));
  }

  pause.addEventListener("click", function () { model.set("paused", !model.get("paused")); model.save_changes(); });
  once.addEventListener("click", function () { model.set("_once", model.get("_once") + 1); model.save_changes(); });
  speed.addEventListener("input", function () { model.set("speed", parseInt(speed.value, 10)); model.save_changes(); });
  show.addEventListener("click", function () {
    model.set("edges", model.get("edges") === "grad" ? "weight" : "grad"); model.save_changes();
    if (shown) drawNetwork(shown);
  });
  scrub.addEventListener("input", onScrub);
  on("_state", onState);
  on("_loss", onLoss);
  on("_boundary", function () { if (!scrubbing) drawBoundary(model.get("_boundary")); });
  on("paused", onControls); on("status", onControls); on("speed", onControls); on("_frames", onControls); on("driver", onControls);
  on("edges", function () { if (shown) drawNetwork(shown); });

  onState(); onLoss(); drawBoundary(model.get("_boundary")); onControls();
  return function () { listeners.forEach(function (l) { model.off("change:" + l[0], l[1]); }); };
}

export default { render: render };
