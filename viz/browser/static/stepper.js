// The stepper: crInitStepper(root) turns one .cr-stepper element (holding its
// script.cr-data JSON: css, ui markup, base texts, reveal steps, frames) into the interactive
// view. Keys: only ArrowLeft/ArrowRight while the stepper has focus; every other key (Ctrl+S,
// Shift+Enter, ...) goes on to the page.
/* exported crInitStepper */

function crInitStepper(root) {
  if (!root || root.getAttribute("data-cr-ready")) return;
  root.setAttribute("data-cr-ready", "1");
  var data = JSON.parse(root.querySelector("script.cr-data").textContent);
  var style = document.createElement("style");
  style.textContent = data.css;
  root.insertBefore(style, root.firstChild);
  var ui = document.createElement("div");
  ui.className = "cr-ui";
  if (data.ui !== undefined) ui.innerHTML = data.ui;
  else ui.appendChild(root.querySelector("template.cr-ui").content.cloneNode(true));
  root.appendChild(ui);
  var fallback = root.querySelector(".cr-static");
  if (fallback) fallback.parentNode.removeChild(fallback);
  root.setAttribute("tabindex", "0");
  var svg = ui.querySelector("svg"), view = ui.querySelector(".cr-view");
  var items = {}, texts = {};
  svg.querySelectorAll("g[id]").forEach(function (g) { items[g.getAttribute("id")] = g; });
  svg.querySelectorAll("[data-cr]").forEach(function (t) { texts[t.getAttribute("data-cr")] = t; });
  var slider = ui.querySelector(".cr-slider"), eq = ui.querySelector(".cr-eq");
  var title = ui.querySelector(".cr-title"), counter = ui.querySelector(".cr-counter");
  var play = ui.querySelector(".cr-play"), zoom = ui.querySelector(".cr-zoom");
  var n = data.frames.length, current = 0, timer = null;
  // a collapsed step (a neuron, a layer) opens into the steps inside it: inside >= 0 is the
  // position among them, -1 when closed
  var inside = -1, open = ui.querySelector(".cr-open");
  var marks = ["cr-active", "cr-target", "cr-pending"];
  // the positions in data.inner of the steps frame k groups (null: it does not open)
  function innerOf(k) { var s = data.frames[k].inside; return s && data.inner ? s : null; }
  function show(k, m) {
    k = Math.max(0, Math.min(n - 1, k)); current = k;
    var span = innerOf(k);
    inside = (span && m !== undefined && m >= 0) ? Math.min(m, span.length - 1) : -1;
    var s = inside >= 0 ? span[inside] : -1;
    var f = s >= 0 ? data.inner[s] : data.frames[k];
    Object.keys(items).forEach(function (id) {
      var cl = items[id].classList;
      marks.forEach(function (m) { cl.remove(m); });
      if (s >= 0 ? (id in data.ireveal && data.ireveal[id] > s)
                 : (id in data.reveal && data.reveal[id] > k)) cl.add("cr-pending");
    });
    f.active.concat(f.edges).forEach(function (id) { if (items[id]) items[id].classList.add("cr-active"); });
    f.targets.forEach(function (id) { if (items[id]) items[id].classList.add("cr-target"); });
    var now = Object.assign({}, data.base), i;
    if (s >= 0) for (i = 0; i <= s; i++) Object.assign(now, data.inner[i].texts);
    else for (i = 0; i <= k; i++) Object.assign(now, data.frames[i].texts);
    Object.keys(texts).forEach(function (key) {
      if (key in now) texts[key].textContent = now[key];
      texts[key].classList.toggle("cr-changed", key in f.texts);
    });
    eq.textContent = f.equation;
    title.textContent = s >= 0 ? data.frames[k].title + " \u203A " + f.title : f.title;
    counter.textContent = "step " + k + " of " + (n - 1) +
      (s >= 0 ? ", inside: " + (inside + 1) + " of " + span.length : "");
    pan(f);
    slider.value = String(k);
    root.setAttribute("data-step", String(k));
    root.setAttribute("data-inside", String(inside));
    if (open) {
      open.hidden = !span;
      open.setAttribute("aria-expanded", inside >= 0 ? "true" : "false");
      open.textContent = inside >= 0 ? "\u25B4 close" :
        "\u25BE open" + (span ? " (" + span.length + " steps inside)" : "");
    }
  }
  // the title and equation boxes keep the height of the tallest step, so nothing below moves
  function tallest() {
    var keep = current, keepInside = inside, eqH = 0, titleH = 0;
    eq.style.minHeight = ""; title.style.minHeight = "";
    data.frames.forEach(function (f) {
      eq.textContent = f.equation; eqH = Math.max(eqH, eq.offsetHeight);
      title.textContent = f.title; titleH = Math.max(titleH, title.offsetHeight);
    });
    root.crHeights = [titleH, eqH];
    var group = root.parentNode && root.parentNode.closest ? root.parentNode.closest(".cr-compare") : null;
    var peers = group ? group.querySelectorAll(".cr-stepper") : [root];
    Array.prototype.forEach.call(peers, function (peer) {
      if (peer.crHeights) { titleH = Math.max(titleH, peer.crHeights[0]); eqH = Math.max(eqH, peer.crHeights[1]); }
    });
    Array.prototype.forEach.call(peers, function (peer) {
      var t = peer.querySelector(".cr-title"), e = peer.querySelector(".cr-eq");
      // a capped box (a collapsed trace's long steps) scrolls instead of growing past its cap
      var cap = e ? parseFloat(window.getComputedStyle(e).maxHeight) : NaN;
      if (t && e && peer.crHeights) { t.style.minHeight = titleH + "px"; e.style.minHeight = (isNaN(cap) ? eqH : Math.min(eqH, cap)) + "px"; }
    });
    show(keep, keepInside);
  }
  var lastWidth = -1;
  function relayout() {
    var w = root.clientWidth;
    if (w > 0 && w !== lastWidth) { lastWidth = w; tallest(); fitHeight(); show(current, inside); }
  }
  if (window.ResizeObserver) new ResizeObserver(relayout).observe(root);
  function stop() { if (timer) { clearInterval(timer); timer = null; play.textContent = "\u25B6 play"; } }
  // the active node of frame f, panned into the middle of the graph's box when it is outside
  // the part the box shows or close to its edge (what feeds it then shows beside it); the
  // box scrolls, the page does not move
  function activeOf(f) { var id = f && f.active[0]; return id ? items[id] : null; }
  function pan(f) {
    var g = activeOf(f);
    if (!g || !g.getBoundingClientRect) return;
    var v = view.getBoundingClientRect(), b = g.getBoundingClientRect();
    var w = view.clientWidth, h = view.clientHeight;
    var mx = Math.min(120, w / 5), my = Math.min(60, h / 6);
    if (b.left < v.left + mx || b.right > v.left + w - mx) view.scrollLeft += (b.left + b.right - 2 * v.left - w) / 2;
    if (b.top < v.top + my || b.bottom > v.top + h - my) view.scrollTop += (b.top + b.bottom - 2 * v.top - h) / 2;
  }
  // the graph's box is at most as tall as the window below the controls, so the box (and the
  // active node panned into it) fits on screen with the equation above it
  function fitHeight() {
    var above = view.getBoundingClientRect().top - root.getBoundingClientRect().top;
    var pageTop = view.getBoundingClientRect().top + (window.pageYOffset || 0);
    var start = pageTop < window.innerHeight * 0.6 ? pageTop : above;
    view.style.maxHeight = Math.max(240, window.innerHeight - start - 12) + "px";
  }
  // after a step the learner asked for, bring the active node into view: the graph's box
  // pans to it, and the page scrolls only if the node is still off screen
  function follow() {
    var f = inside >= 0 ? data.inner[innerOf(current)[inside]] : data.frames[current];
    var g = activeOf(f);
    pan(f);
    if (g && g.scrollIntoView) g.scrollIntoView({block: "nearest", inline: "nearest"});
  }
  function step(d) {
    stop();
    var span = innerOf(current);
    if (inside >= 0 && span) {
      var m = inside + d;
      if (m < 0) show(current);                          // back out to the whole step
      else if (m >= span.length) show(current + 1);      // past its last: the next step
      else show(current, m);
    } else show(current + d);
    follow();
  }
  function toggle(wantOpen) {
    var span = innerOf(current);
    if (!span || wantOpen === (inside >= 0)) return false;
    stop(); show(current, wantOpen ? 0 : undefined); follow();
    return true;
  }
  if (open) open.addEventListener("click", function (e) { pressed(e, function () { toggle(inside < 0); }); });
  // a mouse click leaves focus on the stepper, not the button, so a later Enter or
  // Shift+Enter is the notebook's, not another press of the button
  function pressed(e, action) {
    if (e.detail === 0 && (e.shiftKey || e.ctrlKey || e.altKey || e.metaKey)) return;
    action();
    if (e.detail > 0) root.focus({preventScroll: true});
  }
  ui.querySelector(".cr-prev").addEventListener("click", function (e) { pressed(e, function () { step(-1); }); });
  ui.querySelector(".cr-next").addEventListener("click", function (e) { pressed(e, function () { step(1); }); });
  play.addEventListener("click", function (e) { pressed(e, function () {
    if (timer) { stop(); return; }
    if (current >= n - 1) show(0);
    play.textContent = "\u275A\u275A pause";
    timer = setInterval(function () { if (current >= n - 1) stop(); else { show(current + 1); follow(); } }, 900);
  }); });
  zoom.addEventListener("click", function (e) { pressed(e, function () {
    var full = view.classList.toggle("cr-full");
    zoom.textContent = full ? "fit width" : "full size";
    zoom.setAttribute("aria-pressed", full ? "true" : "false");
    show(current, inside);
  }); });
  slider.addEventListener("input", function () { stop(); show(parseInt(slider.value, 10)); follow(); });
  function onKey(e) {
    if (e.defaultPrevented || e.altKey || e.ctrlKey || e.metaKey || e.shiftKey) return;
    if (e.key === "ArrowRight") { step(1); e.preventDefault(); }
    else if (e.key === "ArrowLeft") { step(-1); e.preventDefault(); }
    else if (e.key === "ArrowDown" && open) { if (toggle(true)) e.preventDefault(); }
    else if (e.key === "ArrowUp" && open) { if (toggle(false)) e.preventDefault(); }
  }
  // Arrow keys are taken before the notebook sees them: one capture listener on window (it
  // runs before the notebook's own on document) passes them to the stepper holding the focus
  // and marks them handled (preventDefault), which the notebook's shortcut handling skips.
  // Nothing is stopped: every key still travels on through the page.
  root.crOnKey = onKey;
  if (!window.crStepperKeys) {
    window.crStepperKeys = true;
    window.addEventListener("keydown", function (e) {
      var t = e.target, owner = t && t.closest ? t.closest(".cr-stepper") : null;
      if (owner && owner.crOnKey) owner.crOnKey(e);
    }, true);
  }
  if (root.getAttribute("data-standalone") === "1") {
    document.addEventListener("keydown", function (e) {
      var t = e.target;
      if (t && t.closest && (t.closest(".cr-stepper") || t.closest("input, textarea, select, [contenteditable]"))) return;
      onKey(e);
    });
  }
  show(0);
  relayout();
  window.addEventListener("resize", function () { fitHeight(); });
}
