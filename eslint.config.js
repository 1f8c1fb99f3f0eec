// ESLint for the front-end files in viz/static: plain browser scripts (no modules, no build
// step), each defining one function that Python's start-up line calls.
const js = require("@eslint/js");
const globals = require("globals");

module.exports = [
  js.configs.recommended,
  {
    files: ["viz/**/*.js"],
    languageOptions: {
      ecmaVersion: 2017,
      sourceType: "script",
      globals: { ...globals.browser },
    },
    rules: {
      "no-unused-vars": ["error", { varsIgnorePattern: "^cr[A-Z]" }],
      eqeqeq: ["error", "always"],
      "no-var": "off",
    },
  },
  {
    // the live view is anywidget's ES module (viz/browser/live.py loads it as _esm)
    files: ["viz/browser/static/live.js"],
    languageOptions: { sourceType: "module" },
  },
];
