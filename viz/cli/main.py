"""The ``chainrule`` command line: ``draw``, ``trace``, ``demo`` and ``check``.

``chainrule demo`` is the project's main job: it trains micrograd's moons MLP on built-in
data and writes the loss curve, the decision boundary, one data point's graph and its
step-by-step HTML stepper.

Every failure ends with one line on stderr and no traceback: bad arguments, expressions and
output paths exit with status 2 (checked before any work is done), a failure to write a file
with status 1. A constant expression is drawn (without gradients); its trace is refused
(status 2): backward has no step. When stdout's reader goes away (``| head``) the command
stops quietly with status 141, as a Unix tool stopped by SIGPIPE. ``chainrule check`` exits with 1 when an exercise failed, and refuses a file that
is not a notebook with status 3, before running anything.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any, Callable, Iterator, NoReturn, Sequence

from autograd_core import topological_order

from .expression import FUNCTIONS, MAX_LENGTH, MAX_NODES, ExpressionError, build, parse_assignments
from ..drawing.graph import DEFAULT_MAX_NODES
from .grading.self_check import DEFAULT_TIMEOUT, KernelUnavailable, NotANotebook

EXIT_USAGE = 2
EXIT_FAILURE = 1              # also: chainrule check found an exercise not passed or a cell error
EXIT_NOT_A_NOTEBOOK = 3
EXIT_BROKEN_PIPE = 141        # 128 + SIGPIPE: what a shell reports for `yes | head`'s yes
GRAPH_SUFFIXES = (".svg", ".png", ".dot", ".gv")


class UsageError(Exception):
    """A bad command line: reported on one line, exit status 2. ``prog`` names the
    (sub)command whose arguments were wrong, when argparse knows it."""

    def __init__(self, message: str, prog: str | None = None) -> None:
        super().__init__(message)
        self.prog = prog


class _Parser(argparse.ArgumentParser):
    """argparse, but an error is one line (no usage dump) raised as :class:`UsageError`, so
    that :func:`main` returns instead of exiting."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see '{self.prog} --help')", self.prog)


def _int_at_least(minimum: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, got {value}")
        return value
    parse.__name__ = f"integer >= {minimum}"
    return parse


def _output_file(text: str, option: str, example: str, suffixes: Sequence[str] = ()) -> Path:
    """``text`` as a file path that can be written: not a directory, in an existing directory,
    with one of ``suffixes`` (if given)."""
    path = Path(text)
    if path.is_dir():
        raise UsageError(f"{option} {text}: is a directory; give a file name inside it, e.g. "
                         f"{path / example}")
    if suffixes and path.suffix.lower() not in suffixes:
        raise UsageError(f"{option} {text}: the file name must end in "
                         f"{', '.join(suffixes[:-1])} or {suffixes[-1]}")
    parent = path.parent
    if not parent.is_dir():
        what = "is not a directory" if parent.exists() else "does not exist"
        raise UsageError(f"{option} {text}: the directory {parent} {what}")
    return path


def _output_dir(text: str, option: str) -> Path:
    """``text`` as a directory that exists or can be created (no file in the way)."""
    path = Path(text)
    for part in (path, *path.parents):
        if part.exists():
            if not part.is_dir():
                raise UsageError(f"{option} {text}: {part} is a file, not a directory")
            break
    return path


def _graph_from_args(args: argparse.Namespace) -> Any:
    values = parse_assignments(args.set or [])
    root, _ = build(args.expr, values)
    return root


def _within_max_nodes(root: Any, max_nodes: int, draw: Callable[[], Any]) -> Any:
    """``draw()``; if viz refuses the graph as larger than ``max_nodes``, say which option
    raises the limit."""
    try:
        return draw()
    except ValueError:
        order = topological_order(root)
        count = len(order) + sum(1 for node in order if node.op is not None)  # values + ops
        if count > max_nodes:
            raise UsageError(f"the graph has {count} nodes to draw, more than --max-nodes "
                             f"{max_nodes}; pass --max-nodes {count} to draw it anyway") from None
        raise


def _draw(args: argparse.Namespace) -> int:
    from ..drawing.graph import draw_graph

    out = _output_file(args.output, "-o/--output", "graph.svg", GRAPH_SUFFIXES)
    root = _graph_from_args(args)
    constant = not root.requires_grad        # no variable: drawn without gradients
    if not constant:
        root.backward()
    graph = _within_max_nodes(root, args.max_nodes, lambda: draw_graph(
        root, rankdir=args.rankdir, show_grad=not constant, show_local=args.local,
        max_nodes=args.max_nodes))
    graph.save(out)
    note = " (a constant: no variable, so no gradients)" if constant else ""
    print(f"{args.expr} = {root.data:.6g}{note}; graph written to {out}")
    return 0


def _trace(args: argparse.Namespace) -> int:
    from ..tracing.trace import trace_backward

    html = _output_file(args.html, "--html", "stepper.html") if args.html else None
    root = _graph_from_args(args)
    if not root.requires_grad:
        raise UsageError(f"{args.expr} is a constant (= {root.data:.6g}): with no variable, "
                         f"backward has no step to trace; write a variable and give its "
                         f"value, e.g. 'x*3' --set x=2")
    trace = trace_backward(root, rankdir=args.rankdir, max_nodes=args.max_nodes)
    if html:                         # only the picture is laid out, so only it has a node limit
        written = _within_max_nodes(root, args.max_nodes, lambda: trace.save_html(html))
        print(f"stepper written to {written}")
    elif args.latex:
        print(trace.to_latex())
    elif args.markdown:
        print(trace.to_markdown())
    else:
        print(trace.to_text())
    return 0


def _demo(args: argparse.Namespace) -> int:
    from .demo import run_demo

    out = _output_dir(args.out, "--out")
    written = run_demo(out, steps=args.steps, seed=args.seed,
                       batch_size=None if args.batch_size == 0 else args.batch_size)
    print(f"wrote {len(written)} files to {out.resolve()}:")
    for path, what in written:
        print(f"  {path.name:<24} {what}")
    return 0


def _run_one(path: Path, nb: Any, timeout: int, kernel: str) -> Any:
    from .grading import self_check as nc

    if sys.stderr.isatty():
        print(f"running {path} ...", file=sys.stderr, flush=True)
    try:
        return nc.run_notebook(path, nb, timeout=timeout, kernel_name=kernel)
    except KernelUnavailable as err:
        raise UsageError(str(err)) from None


def _run_all(notebooks: list[tuple[Path, Any]], args: argparse.Namespace) -> Iterator[Any]:
    """Each notebook's result, in the order given; with ``--jobs N`` up to N kernels run at
    once, each notebook in a worker process of its own."""
    if args.jobs == 1 or len(notebooks) == 1:
        for path, nb in notebooks:
            yield _run_one(path, nb, args.timeout, args.kernel)
        return
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(max_workers=min(args.jobs, len(notebooks))) as pool:
        futures = [pool.submit(_run_one, path, nb, args.timeout, args.kernel)
                   for path, nb in notebooks]
        for future in futures:
            yield future.result()


def _check(args: argparse.Namespace) -> int:
    from .grading import self_check as nc

    try:
        import ipykernel  # noqa: F401 - the kernel the notebooks run in
        import nbclient  # noqa: F401
        import nbformat  # noqa: F401
    except ImportError as missing:
        raise UsageError(f"chainrule check needs nbclient, nbformat and ipykernel ({missing}); "
                         f"pip install 'chainrule[check]'") from None
    paths, refused = nc.find_notebooks(args.notebooks)
    notebooks = []
    for path in paths:                      # every file is read before any kernel starts
        try:
            notebooks.append((path, nc.read_notebook(path)))
        except NotANotebook as err:
            refused.append(str(err))
    if refused:
        head = "" if len(refused) == 1 else f"{len(refused)} files are not notebooks: "
        raise NotANotebook(head + " | ".join(refused) + " (nothing was run)")
    results = []
    for result in _run_all(notebooks, args):
        results.append(result)
        if not args.json:
            print(nc.format_result(result) + "\n", flush=True)
    passed = all(r.passed for r in results)
    if args.json:
        print(json.dumps({"passed": passed, "notebooks": [r.to_json() for r in results]},
                         indent=2, ensure_ascii=False))
    elif len(results) > 1:
        print(nc.format_summary(results))
    return 0 if passed else EXIT_FAILURE


CHECK_HELP = """\
Run each notebook top to bottom in a fresh kernel, in the notebook's own directory (as
"Restart & Run All"), then read back the reports of the chainrule checks its cells displayed
(check_answer, check_derivative, check_gradients, ...). Prints a table per notebook
(exercise, passed / FAILED / not answered, the feedback's first line), the cells that
raised and the misconception guards that fired (warnings: they fail nothing); for several
notebooks, one summary line each at the end. A directory is searched
for *.ipynb (recursively).

A notebook passes when it shows at least one exercise, all passed and no cell raised (cells
tagged raises-exception may raise). An exercise checked twice counts its last report.

exit status: 0 every notebook passed; 1 an exercise failed or was not answered, a cell
raised or timed out, or a notebook showed no exercise; 2 bad arguments; 3 a file is not a
notebook (nothing is run).

The notebooks' code runs with your permissions: grade untrusted submissions in a container.
"""


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for ``chainrule``."""
    parser = _Parser(
        prog="chainrule", description="Learn backpropagation one chain-rule step at a time.")
    sub = parser.add_subparsers(dest="command", required=True)

    def expression_command(name: str, help_text: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text, description=help_text,
                           usage=f"chainrule {name} EXPR [--set NAME=NUMBER ...] [options]")
        # optional for argparse only: an expression such as "-x*2" looks like an option to
        # it, and main() takes it from the unrecognised arguments instead
        p.add_argument("expr", nargs="?", metavar="EXPR",
                       help=f"e.g. 'tanh(x*w + b)' or '-x*2'; functions: "
                            f"{' '.join(FUNCTIONS)} (at most "
                            f"{MAX_LENGTH:,} characters and {MAX_NODES:,} operands and operations)")
        p.add_argument("--set", nargs="*", metavar="NAME=NUMBER", help="variable values, e.g. x=0.5 w=-1.5")
        p.add_argument("--rankdir", default="LR", choices=["LR", "TB", "RL", "BT"])
        p.add_argument("--max-nodes", type=_int_at_least(1), default=DEFAULT_MAX_NODES,
                       metavar="N", help=f"refuse to draw a graph of more than N boxes and "
                                         f"ellipses (default {DEFAULT_MAX_NODES})")
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
    demo.add_argument("--steps", type=_int_at_least(1), default=100,
                      help="training steps (default 100)")
    demo.add_argument("--batch-size", type=_int_at_least(0), default=32,
                      help="points per training step, drawn at random (default 32; 0: all 100)")
    demo.add_argument("--seed", type=_int_at_least(0), default=1337,
                      help="passed to manual_seed for the data and weights (default 1337)")
    demo.set_defaults(func=_demo)

    check = sub.add_parser(
        "check", help="run learners' notebooks and grade their exercises",
        description=CHECK_HELP, formatter_class=argparse.RawDescriptionHelpFormatter,
        usage="chainrule check NOTEBOOK [NOTEBOOK ...] [--json] [--timeout S] [--kernel NAME] "
              "[--jobs N]")
    check.add_argument("notebooks", nargs="+", metavar="NOTEBOOK",
                       help="a .ipynb file, or a directory of them")
    check.add_argument("--json", action="store_true",
                       help="print the results as JSON instead of tables")
    check.add_argument("--timeout", type=_int_at_least(1), default=DEFAULT_TIMEOUT, metavar="S",
                       help=f"seconds each cell may run (default {DEFAULT_TIMEOUT})")
    check.add_argument("--kernel", default="python3", metavar="NAME",
                       help="the Jupyter kernel to run in (default python3; it must import "
                            "chainrule)")
    check.add_argument("--jobs", type=_int_at_least(1), default=1, metavar="N",
                       help="notebooks run at once, each in its own kernel (default 1); the "
                            "tables still come in the order given")
    check.set_defaults(func=_check)
    return parser


def _parse(parser: argparse.ArgumentParser, argv: Sequence[str] | None) -> argparse.Namespace:
    """Parse ``argv``; an expression starting with ``-`` comes back unrecognised and is
    taken as the expression."""
    args, extra = parser.parse_known_args(argv)
    prog = f"chainrule {args.command}"
    if args.func in (_draw, _trace) and args.expr is None:
        if extra and extra[0].startswith("-") and extra[0] not in ("-", "--"):
            args.expr = extra.pop(0)
        else:
            raise UsageError(f"the expression EXPR is required (see '{prog} --help')", prog)
    if extra:
        raise UsageError(f"unrecognized arguments: {' '.join(extra)} (see '{prog} --help')", prog)
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``chainrule`` console script; returns the exit code.

    Errors are one line on stderr, ``chainrule <command>: error: ...``; no traceback."""
    parser = build_parser()
    command = "chainrule"
    try:
        args = _parse(parser, argv)
        command = f"chainrule {args.command}"
        code = int(args.func(args))
        sys.stdout.flush()                # a reader that went away shows here, not at exit
        return code
    except BrokenPipeError:               # `chainrule trace ... | head`: stop quietly
        return _reader_gone()
    except SystemExit as done:            # --help
        return 0 if done.code is None else done.code if isinstance(done.code, int) else EXIT_USAGE
    except UsageError as err:
        return _fail(err.prog or command, str(err), EXIT_USAGE)
    except NotANotebook as err:
        return _fail(command, str(err), EXIT_NOT_A_NOTEBOOK)
    except ExpressionError as err:
        return _fail(command, str(err), EXIT_USAGE)
    except ValueError as err:             # refused by the library (e.g. a graph too large)
        return _fail(command, str(err), EXIT_USAGE)
    except OSError as err:
        where = f"{err.filename}: " if err.filename else ""
        return _fail(command, f"{where}{err.strerror or err}", EXIT_FAILURE)
    except KeyboardInterrupt:
        return _fail(command, "interrupted", 130)
    except Exception as err:  # noqa: BLE001 - a command line never shows a traceback
        return _fail(command, f"internal error, please report it: {type(err).__name__}: {err}",
                     EXIT_FAILURE)


def _reader_gone() -> int:
    """stdout's reader closed the pipe: no message, exit status 141 as a Unix tool killed by
    SIGPIPE; stdout is pointed at /dev/null so that Python's last flush stays quiet too (the
    recipe of Python's ``signal`` documentation, "Note on SIGPIPE")."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (AttributeError, OSError, ValueError):    # a stdout without a file descriptor
        pass
    return EXIT_BROKEN_PIPE


def _fail(command: str, message: str, code: int) -> int:
    print(f"{command}: error: {' '.join(message.split())}", file=sys.stderr)
    return code


if __name__ == "__main__":
    sys.exit(main())
