// MathJax 3 (vendored: assets/mathjax/tex-svg-full.js, SVG output, no fonts to fetch).
// Markdown pages: pymdownx.arithmatex writes \( \) and \[ \] inside .arithmatex elements.
// Course pages: the notebooks' Markdown cells, LaTeX outputs and headings (in the table of
// contents) use $ and $$.
// Only those elements are typeset, so a "$" in code, outputs or steppers is left alone.
window.MathJax = {
  tex: {
    inlineMath: [["\\(", "\\)"], ["$", "$"]],
    displayMath: [["\\[", "\\]"], ["$$", "$$"]],
    processEscapes: true,
    processEnvironments: true
  },
  options: { enableMenu: false },
  startup: {
    typeset: false,
    pageReady: function () {
      return MathJax.startup.defaultPageReady().then(function () {
        var parts = document.querySelectorAll(
          ".arithmatex, .jp-MarkdownCell .jp-RenderedMarkdown, .jp-RenderedLatex, " +
          ".md-sidebar--secondary .md-nav__link");   // a notebook heading's math in the TOC
        return MathJax.typesetPromise(Array.prototype.slice.call(parts));
      }).then(function () {
        document.documentElement.setAttribute("data-math-typeset", "1");
      });
    }
  }
};
