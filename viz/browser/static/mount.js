// Run in a notebook's JavaScript output: build the views inside the output (host: the
// output element), then hide the static outputs shown before it (the fallback text, found by
// its id, and up to options.pictures pictures before it).
// options: {body: the views' HTML, fallback: the fallback element's id, pictures: how many
// pictures to hide}; init: the function that starts one view (crInitStepper, crInitAnimation).
/* exported crMount */

function crMount(host, options, init) {
  host = host && host.jquery ? host[0] : host;
  if (!host) host = document.currentScript && document.currentScript.parentNode;
  if (!host) return;
  host.innerHTML = options.body;
  host.querySelectorAll(".cr-stepper").forEach(function (root) { init(root); });
  var tries = 0;
  (function hideFallback() {
    var fallback = document.getElementById(options.fallback);
    if (!fallback || !host.isConnected) { if (tries++ < 100) setTimeout(hideFallback, 50); return; }
    var box = host;
    while (box && !box.contains(fallback)) box = box.parentElement;
    if (!box) return;
    var item = fallback;
    while (item.parentElement !== box) item = item.parentElement;
    var hide = [item], prev = item.previousElementSibling;
    for (var i = 0; i < options.pictures && prev; i++, prev = prev.previousElementSibling) {
      if (prev.querySelector("img, svg")) hide.push(prev);   // the still: PNG, or SVG (Pyodide)
    }
    hide.forEach(function (el) { el.style.display = "none"; el.setAttribute("data-cr-replaced", "1"); });
  })();
}
