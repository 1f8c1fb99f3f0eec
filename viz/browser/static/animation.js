// The animation player: crInitAnimation(root) turns one .cr-anim element (holding its
// script.cr-data JSON: css, ui, frames as data URIs, captions, interval) into the player.
// The arrow keys reach it through the one window listener the stepper also uses
// (crStepperKeys / crOnKey).
/* exported crInitAnimation */

function crInitAnimation(root) {
  if (!root || root.getAttribute("data-cr-ready")) return;
  root.setAttribute("data-cr-ready", "1");
  var data = JSON.parse(root.querySelector("script.cr-data").textContent);
  var css = document.createElement("style"); css.textContent = data.css;
  var ui = document.createElement("div"); ui.className = "cr-ui"; ui.innerHTML = data.ui;
  root.insertBefore(css, root.firstChild); root.appendChild(ui);
  var still = root.querySelector(".cr-static"); if (still) still.remove();
  root.setAttribute("tabindex", "0");
  function part(c) { return ui.querySelector(".cr-" + c); }
  var img = part("frame"), caption = part("title"), counter = part("counter"),
      slider = part("slider"), play = part("play"), n = data.frames.length, k = 0, timer = null;
  function show(j) {
    k = Math.max(0, Math.min(n - 1, j));
    img.src = data.frames[k]; caption.textContent = data.captions[k];
    img.alt = data.alt + " Frame " + (k + 1) + ": " + data.captions[k];
    counter.textContent = "frame " + (k + 1) + " of " + n;
    slider.value = String(k); root.setAttribute("data-frame", String(k));
  }
  function halt() { if (timer) clearInterval(timer); timer = null; play.textContent = "\u25B6 play"; }
  function go(d) { halt(); show(k + d); }
  function press(action) { return function (e) { action(); if (e.detail > 0) root.focus({preventScroll: true}); }; }
  part("prev").addEventListener("click", press(function () { go(-1); }));
  part("next").addEventListener("click", press(function () { go(1); }));
  play.addEventListener("click", press(function () {
    if (timer) return halt();
    if (k >= n - 1) show(0);
    play.textContent = "\u275A\u275A pause";
    timer = setInterval(function () { show(k + 1); if (k >= n - 1) halt(); }, data.interval);
  }));
  slider.addEventListener("input", function () { halt(); show(parseInt(slider.value, 10)); });
  // the caption box keeps the height of the longest caption, so the picture never jumps
  var tallest = 0;
  data.captions.forEach(function (c) { caption.textContent = c; tallest = Math.max(tallest, caption.offsetHeight); });
  caption.style.minHeight = tallest + "px";
  root.crOnKey = function (e) {
    if (e.defaultPrevented || e.altKey || e.ctrlKey || e.metaKey || e.shiftKey) return;
    var d = {ArrowRight: 1, ArrowLeft: -1}[e.key];
    if (d) { go(d); e.preventDefault(); }
  };
  if (!window.crStepperKeys) {
    window.crStepperKeys = true;
    window.addEventListener("keydown", function (e) { var o = e.target && e.target.closest ?
      e.target.closest(".cr-stepper") : null; if (o && o.crOnKey) o.crOnKey(e); }, true);
  }
  if (root.getAttribute("data-standalone") === "1") document.addEventListener("keydown", function (e) {
    if (!(e.target && e.target.closest && e.target.closest(".cr-stepper, input, textarea"))) root.crOnKey(e);
  });
  show(0);
}
