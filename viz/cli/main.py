"""The ``chainrule`` command line: ``draw``, ``trace``, ``demo`` and ``check``.

``chainrule demo`` is the project's main job: it trains micrograd's moons MLP on built-in
data and writes the loss curve, the decision boundary, one data point's graph and its
step-by-step HTML stepper.

Every failure ends with one line on stderr and no traceback: bad arguments, expressions and
output paths exit with status 2 (checked before any work is done), a failure to write a file
with status 1. A constant expression is drawn (without gradients); its trace is refused
(status 2): backward has no step. When stdout's reader goes away (``| head``) the command
stops quietly with status 141, as a Unix tool stopped by SIGPIPE. ``chainrule check`` exits
with 1 when an exercise failed, and refuses a file that is not a notebook, or a ``--key`` that
is not a teacher's copy, with status 3, before running anything (``--key``: a grade safe
against forgery, :mod:`viz.cli.grading.teacher`).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
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


def _run_one(path: Path, nb: Any, timeout: int, kernel: str, key: Any = None) -> Any:
    from .grading import self_check as nc
    from .grading import teacher as grading

    if key is not None:
        return grading.grade(path, nb, key, timeout=timeout, kernel_name=kernel)
    return nc.run_notebook(path, nb, timeout=timeout, kernel_name=kernel)


def _in_workers(tasks: list[tuple[Callable[..., Any], tuple[Any, ...]]],
                jobs: int) -> Iterator[tuple[str, Any]]:
    """Run each ``(function, args)`` in a worker process of its own, up to ``jobs`` at once;
    yield ``("ok", result)``, ``("error", exception)`` or ``("died", exit code)`` per task,
    in the order given. A worker that dies (killed by the notebook it runs, or by the OOM
    killer) loses its own task only."""
    import multiprocessing
    from multiprocessing.connection import wait

    context = multiprocessing.get_context("fork")
    done: dict[int, tuple[str, Any]] = {}
    running: dict[Any, tuple[int, Any]] = {}          # pipe -> index, process
    waiting = list(enumerate(tasks))
    following = 0
    try:
        while following < len(tasks):
            while waiting and len(running) < jobs:
                index, (function, args) = waiting.pop(0)
                receive, send = context.Pipe(duplex=False)
                process = context.Process(target=_worker, args=(send, function, args),
                                          daemon=True)
                process.start()
                send.close()
                running[receive] = (index, process)
            for receive in wait(list(running)):       # a result, or the end of the pipe
                index, process = running.pop(receive)
                try:
                    done[index] = receive.recv()
                except (EOFError, OSError):           # died before sending anything
                    done[index] = ("died", None)
                receive.close()
                process.join()
                if done[index][0] == "died":
                    done[index] = ("died", process.exitcode)
            while following in done:
                yield done.pop(following)
                following += 1
    finally:
        for _, process in running.values():
            process.kill()


def _worker(send: Any, function: Callable[..., Any], args: tuple[Any, ...]) -> None:
    try:
        outcome: tuple[str, Any] = ("ok", function(*args))
    except Exception as error:  # noqa: BLE001 - sent to the parent, which reports it
        outcome = ("error", error)
    try:
        send.send(outcome)
    except Exception as error:  # noqa: BLE001 - e.g. an exception that does not pickle
        send.send(("error", RuntimeError(f"{type(error).__name__}: {error}")))


def _died(path: Path, code: int | None, error: str | None = None) -> Any:
    """The result of a notebook whose grading ended without one: its worker died (exit
    ``code``), or grading it raised ``error``."""
    from .grading import self_check as nc

    if error is not None:
        return nc.NotebookResult(str(path), errors=[nc.CellError(
            0, "GradingError", f"grading this notebook failed ({error}); no result", "")])
    how = f"killed by signal {-code}" if code is not None and code < 0 else f"exit code {code}"
    return nc.NotebookResult(str(path), errors=[nc.CellError(
        0, "WorkerDied", f"the process grading this notebook died ({how}; the notebook "
        f"killed it, or it ran out of memory); no result", "")])


def _run_all(notebooks: list[tuple[Path, Any, Any]], args: argparse.Namespace) -> Iterator[Any]:
    """Each notebook's result, in the order given: each in a worker process of its own,
    with ``--jobs N`` up to N at once."""
    tasks = [(_run_one, (path, nb, args.timeout, args.kernel, key)) for path, nb, key in notebooks]
    for (path, _, _), (kind, value) in zip(notebooks, _in_workers(tasks, args.jobs)):
        if kind == "ok":
            yield value
        elif kind == "died":
            yield _died(path, value)
        elif isinstance(value, KernelUnavailable):
            raise UsageError(str(value))
        else:                                  # this notebook's grading failed, not the run
            yield _died(path, None, f"{type(value).__name__}: {value}")


def _keys(args: argparse.Namespace) -> list[Any]:
    """The ``--key`` teacher's copies, each run once (in a worker) to note its probes."""
    from .grading import teacher as grading

    keys = [grading.load_key(Path(text)) for text in args.key or []]
    ready = []
    for key, (kind, value) in zip(keys, _in_workers(
            [(_record, (key, args.timeout, args.kernel)) for key in keys], args.jobs)):
        if kind == "died":
            raise grading.NotAKey(f"{key.path}: the teacher's notebook killed its grader")
        if kind == "error":
            raise UsageError(str(value)) if isinstance(value, KernelUnavailable) else value
        ready.append(value)
    return ready


def _record(key: Any, timeout: int, kernel: str) -> Any:
    from .grading import teacher as grading

    return grading.record_probes(key, timeout=timeout, kernel_name=kernel)


def _check(args: argparse.Namespace) -> int:
    from .grading import self_check as nc
    from .grading import teacher as grading

    try:
        import ipykernel  # noqa: F401 - the kernel the notebooks run in
        import nbclient  # noqa: F401
        import nbformat  # noqa: F401
    except ImportError as missing:
        raise UsageError(f"chainrule check needs nbclient, nbformat and ipykernel ({missing}); "
                         f"pip install 'chainrule[check]'") from None
    if args.make_key is not None:
        return _make_key(args)
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
    keys = _keys(args)
    graded = [(path, nb, grading.match_key(nb, keys) if keys else None) for path, nb in notebooks]
    unmatched = [str(path) for path, _, key in graded if keys and key is None]
    if unmatched:
        raise grading.NotAKey(f"no --key has the exercises of: {', '.join(unmatched)} "
                              f"(it shares no cell id or check cell with any teacher's copy given)")
    results = []
    for result in _run_all(graded, args):
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


def _make_key(args: argparse.Namespace) -> int:
    """``--make-key FILE TEACHER.ipynb``: the teacher's copy and its probes, in one file."""
    if len(args.notebooks) != 1 or args.key:
        raise UsageError("--make-key FILE takes exactly one teacher's notebook (and no --key)")
    out = _output_file(args.make_key, "--make-key", "key.json")
    if out.suffix.lower() != ".json":
        raise UsageError(f"--make-key {args.make_key}: the key file's name must end in .json")
    args.key = args.notebooks
    key = _keys(args)[0]
    out.write_text(json.dumps(key.to_json(), ensure_ascii=False), encoding="utf-8")
    print(f"wrote {out}: {len(key.exercises)} exercises "
          f"({', '.join(e.title or e.name for e in key.exercises)})")
    return 0


CHECK_HELP = """\
Two uses.

Self-check (a learner's feedback, not a grade): chainrule check NOTEBOOK runs each notebook
top to bottom in a fresh kernel (stored outputs cleared, in a throw-away copy of its folder
without its Python files or other notebooks), then reads back the reports its chainrule
checks displayed (check_answer, check_derivative, check_gradients, ...). The notebook's own
code can fake these reports: this is not a grade.

Grade (safe against forgery from inside the notebook): chainrule check SUBMISSION ... --key
TEACHER.ipynb. The teacher's copy (the solution notebook in otter assign format, or a key
file from --make-key) defines the exercises, the answers and the checks. The submission's
cells run (outputs cleared, its copies of the check cells left out) in a kernel of its own;
its answers come out as data (a function answer as its results on the inputs the teacher's
checks use); then the teacher's notebook runs in a second fresh kernel with those answers in
place, and the reports of the teacher's check cells there are the grade. An exercise whose
answer cell the submission lacks is "missing". With several --key, each submission is graded
against the key whose cells it shares.

Prints a table per notebook (exercise, passed / FAILED / not answered / missing, the
feedback's first line), the cells that raised and the misconception guards that fired
(warnings: they fail nothing); for several notebooks, one summary line each at the end. A
directory is searched for *.ipynb (recursively). Each notebook runs in a worker process of
its own: one that dies fails that notebook only.

A notebook passes when it has at least one exercise, all passed and no cell raised (cells
tagged raises-exception may raise). Self-check: an exercise checked twice counts its last
report.

exit status: 0 every notebook passed; 1 an exercise failed, was not answered or is missing,
a cell raised or timed out, or a notebook showed no exercise; 2 bad arguments;
3 a file is not a notebook, or a --key is not a usable teacher's copy (nothing is run).

The notebooks' code runs with your permissions: grade untrusted submissions in a container.
"""


LITE_HELP = """\
Build notebooks into a static JupyterLite site: JupyterLab and Python (Pyodide 0.27.7) run in
the student's browser, nothing to install. chainrule and every package the notebooks import
are served by the site itself, and each notebook gets a first cell that installs them.

  chainrule lite                      # the course (student copies), into lite/
  chainrule lite notebooks/ -o key    # the course's notebooks as they are (solutions)
  python -m http.server -d lite       # then open http://127.0.0.1:8000/lab/index.html

Copy the folder to any static host (a web server, GitHub Pages, a USB stick served locally).
By default Pyodide is part of the site, so it runs with no network at all; the first build
fetches Pyodide's core from npm and its built packages from PyPI once, checks each against
Pyodide's sha256 lock, and keeps them in ~/.cache/chainrule. --cdn loads Pyodide from its CDN.
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
        usage="chainrule check NOTEBOOK [NOTEBOOK ...] [--key TEACHER] [--json] [--timeout S] "
              "[--kernel NAME] [--jobs N]\n       chainrule check TEACHER.ipynb --make-key "
              "KEY.json")
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
    check.add_argument("--key", action="append", metavar="TEACHER",
                       help="grade against this teacher's copy (solution notebook in otter "
                            "assign format, or a --make-key file); may be repeated")
    check.add_argument("--make-key", metavar="KEY.json",
                       help="run the one teacher's notebook given and write its key (the "
                            "notebook, its exercises and the inputs its checks use) to this "
                            "file, for --key")
    check.set_defaults(func=_check)

    lite = sub.add_parser(
        "lite", help="build notebooks into a static JupyterLite site: the course in the browser",
        description=LITE_HELP, formatter_class=argparse.RawDescriptionHelpFormatter,
        usage="chainrule lite [NOTEBOOK ...] [--output DIR] [--cdn] [--clear-outputs] [--wheel WHL]")
    lite.add_argument("notebooks", nargs="*", metavar="NOTEBOOK",
                      help="a .ipynb file, or a directory of them (default: the course's "
                           "student copies, made from notebooks/ by otter assign)")
    lite.add_argument("-o", "--output", default="lite", metavar="DIR",
                      help="the folder to write the site into (default: lite)")
    lite.add_argument("--cdn", action="store_true",
                      help="load Pyodide and its packages from Pyodide's CDN instead of "
                           "serving them from the site (a site of ~40 MB less)")
    lite.add_argument("--clear-outputs", action="store_true",
                      help="serve the notebooks without their stored outputs")
    lite.add_argument("--wheel", metavar="WHL",
                      help="chainrule's wheel to serve (default: built from this source tree)")
    lite.set_defaults(func=_lite)
    return parser


def _lite(args: argparse.Namespace) -> int:
    from .lite.pyodide_dist import PyodideFetchError
    from .lite.site import SiteError, build_site, check_output_dir
    from .lite.wheels import WheelError

    from .lite.course import CourseError, student_course

    try:
        with tempfile.TemporaryDirectory(prefix="chainrule-course-") as tmp:
            if args.notebooks:
                notebooks = [Path(p) for p in args.notebooks]
            else:
                check_output_dir(Path(args.output))     # before making the copies
                print("the course's student copies:")
                notebooks = student_course(Path(tmp))
            build_site(notebooks, Path(args.output), cdn=args.cdn,
                       clear_outputs=args.clear_outputs, wheel=Path(args.wheel) if args.wheel else None)
    except (SiteError, CourseError) as err:
        raise UsageError(str(err), "chainrule lite") from err
    except (PyodideFetchError, WheelError) as err:
        return _fail("chainrule lite", str(err), EXIT_FAILURE)
    return 0


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


def skip_slow_optional_imports() -> None:
    """Let ``jsonschema`` (which ``nbformat`` imports) start without ``rfc3987_syntax``.

    When that optional package is installed (JupyterLab's dependencies bring it), importing
    jsonschema builds 38 grammar parsers, about 1 s, to check the "iri" string format, which
    no notebook schema uses. Marking it absent makes jsonschema skip that format. Only for a
    process of chainrule's own (the command, the test suite): a library must not do this to
    its user's interpreter, and nothing happens once jsonschema is imported."""
    if "jsonschema" not in sys.modules:
        sys.modules.setdefault("rfc3987_syntax", None)   # type: ignore[arg-type]


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``chainrule`` console script; returns the exit code.

    Errors are one line on stderr, ``chainrule <command>: error: ...``; no traceback."""
    skip_slow_optional_imports()
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
