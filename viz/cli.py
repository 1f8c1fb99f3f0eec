"""The ``chainrule`` command line: ``draw``, ``trace`` and ``demo``.

``chainrule demo`` is the project's main job: it trains micrograd's moons MLP on built-in
data and writes the loss curve, the decision boundary, one data point's graph and its
step-by-step HTML stepper.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, Sequence

from .expression import ExpressionError, build, parse_assignments

EXIT_USAGE = 2


def _graph_from_args(args: argparse.Namespace) -> Any:
    values = parse_assignments(args.set or [])
    root, _ = build(args.expr, values)
    return root


def _draw(args: argparse.Namespace) -> int:
    from .graph import draw_graph

    root = _graph_from_args(args)
    root.backward()
    out = Path(args.output)
    if out.suffix.lower() not in (".svg", ".png", ".dot", ".gv"):
        raise ExpressionError(f"output {out} must end in .svg, .png or .dot")
    draw_graph(root, rankdir=args.rankdir, show_local=args.local).save(out)
    print(f"{args.expr} = {root.data:.6g}; graph written to {out}")
    return 0


def _trace(args: argparse.Namespace) -> int:
    from .trace import trace_backward

    root = _graph_from_args(args)
    trace = trace_backward(root, rankdir=args.rankdir)
    if args.html:
        print(f"stepper written to {trace.save_html(args.html)}")
    elif args.latex:
        print(trace.to_latex())
    elif args.markdown:
        print(trace.to_markdown())
    else:
        print(trace.to_text())
    return 0


def _demo(args: argparse.Namespace) -> int:
    from .demo import run_demo

    written = run_demo(Path(args.out), steps=args.steps, seed=args.seed)
    print(f"wrote {len(written)} files to {Path(args.out).resolve()}:")
    for path, what in written:
        print(f"  {path.name:<24} {what}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for ``chainrule``."""
    parser = argparse.ArgumentParser(
        prog="chainrule", description="Learn backpropagation one chain-rule step at a time.")
    sub = parser.add_subparsers(dest="command", required=True)

    def expression_command(name: str, help_text: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text)
        p.add_argument("expr", help="e.g. 'tanh(x*w + b)'; functions: exp log sqrt tanh sigmoid "
                                    "relu softplus sin cos step sign abs leaky_relu")
        p.add_argument("--set", nargs="*", metavar="NAME=NUMBER", help="variable values, e.g. x=0.5 w=-1.5")
        p.add_argument("--rankdir", default="LR", choices=["LR", "TB", "RL", "BT"])
        return p

    draw = expression_command("draw", "draw the graph of an expression after backward")
    draw.add_argument("-o", "--output", default="graph.svg", help="file to write (.svg, .png or .dot)")
    draw.add_argument("--local", action="store_true", help="write local derivatives on the edges")
    draw.set_defaults(func=_draw)

    trace = expression_command("trace", "print backward one chain-rule step at a time")
    fmt = trace.add_mutually_exclusive_group()
    fmt.add_argument("--latex", action="store_true", help="aligned LaTeX equations")
    fmt.add_argument("--markdown", action="store_true", help="a Markdown table")
    fmt.add_argument("--html", metavar="FILE", help="write a self-contained HTML stepper")
    trace.set_defaults(func=_trace)

    demo = sub.add_parser("demo", help="train the moons MLP and write plots, a graph and a stepper")
    demo.add_argument("--out", default="demo_output", help="directory to write into")
    demo.add_argument("--steps", type=int, default=100, help="training steps (default 100)")
    demo.add_argument("--seed", type=int, default=1337, help="seed for data and weights")
    demo.set_defaults(func=_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``chainrule`` console script; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except ExpressionError as err:
        print(f"chainrule {args.command}: error: {err}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
