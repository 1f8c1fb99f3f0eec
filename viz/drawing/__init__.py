"""Drawing: computation graphs and network diagrams as DOT, SVG and PNG, their styles, and the
Graphviz renderer."""
