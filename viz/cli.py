"""The ``chainrule`` command line.

``chainrule demo`` is the project's main job. For now it builds one neuron
``out = tanh(x1*w1 + x2*w2 + b)``, runs backward and prints every value and gradient,
checked against central finite differences.
"""
from __future__ import annotations

import argparse
import sys
from typing import Sequence


def _demo(args: argparse.Namespace) -> int:
    from autograd_core import Value, gradcheck

    x1, x2 = Value(2.0, label="x1"), Value(0.0, label="x2")
    w1, w2 = Value(-3.0, label="w1"), Value(1.0, label="w2")
    b = Value(6.8813735870195432, label="b")

    def neuron(x1: Value, x2: Value, w1: Value, w2: Value, b: Value) -> Value:
        return (x1 * w1 + x2 * w2 + b).tanh()

    out = neuron(x1, x2, w1, w2, b)
    out.label = "out"
    out.backward()
    print("one neuron: out = tanh(x1*w1 + x2*w2 + b)")
    print(f"  out = {out.data:.6f}")
    for v in (x1, x2, w1, w2, b):
        print(f"  d out / d {v.label:<2} = {v.grad:+.6f}   ({v.label} = {v.data:g})")
    ok = gradcheck(neuron, x1, x2, w1, w2, b)
    print(f"gradients agree with finite differences: {ok}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for ``chainrule``."""
    parser = argparse.ArgumentParser(prog="chainrule",
                                     description="Learn backpropagation one chain-rule step at a time.")
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="run the built-in example")
    demo.set_defaults(func=_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``chainrule`` console script; returns the exit code."""
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
