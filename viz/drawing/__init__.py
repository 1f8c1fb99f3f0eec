"""Drawing: computation graphs and network diagrams as DOT/SVG/PNG, their styles and the Graphviz renderer."""
