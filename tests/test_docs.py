"""The documentation site: built once with ``mkdocs build --strict`` (the README's command),
then opened in headless Chromium with the network blocked.

- nothing is fetched from the network (every request is recorded; only ``file://`` pages and
  their files, or the local server's, are allowed);
- the every-op page lists every op of ``autograd_core.ALL_OPS``, each with typeset math;
- on a course page, pressing "next" in a stepper changes its equation, and the notebook's
  Markdown math is typeset;
- the home page renders its math; the same pages work when the site is served over HTTP;
- the course's student copies: a notebook with otter-grader markers becomes its student copy
  (solutions out, outputs kept for unchanged cells), one without is used as it is.
"""
from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import pytest

from autograd_core import ALL_OPS

from .conftest import keep_offline, served

# one worker builds this module's shared fixture once (pytest-xdist --dist loadgroup)
pytestmark = [pytest.mark.xdist_group("docs"), pytest.mark.slow]

ROOT = Path(__file__).resolve().parent.parent
COURSE_PAGE = "course/02_value_graphs.html"        # the notebook with the neuron's steppers
LOCAL_SCHEMES = ("file://", "data:", "blob:", "about:")


def _require(module: str) -> None:
    """The docs tools are in the test extra: missing in CI is a failure, elsewhere a skip."""
    if importlib.util.find_spec(module) is None:
        if os.environ.get("CI"):
            pytest.fail(f"{module} is not installed: the test extra installs the docs tools")
        pytest.skip(f"{module} is not installed (pip install '.[docs]')")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The site, built once by the README's build command into a temporary folder."""
    for module in ("mkdocs", "material", "mkdocstrings_handlers.python", "mkdocs_jupyter"):
        _require(module)
    out = tmp_path_factory.mktemp("site")
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict",
                             "--site-dir", str(out)], cwd=ROOT, capture_output=True, text=True,
                            env={**{k: v for k, v in os.environ.items() if k != "CHAINRULE_DOCS_LITE"},
                                 "NO_MKDOCS_2_WARNING": "1"})
    seconds = time.perf_counter() - started
    assert result.returncode == 0, f"mkdocs build --strict failed:\n{result.stderr[-4000:]}"
    print(f"\nmkdocs build --strict: {seconds:.1f} s")
    return out


@contextmanager
def opened(browser: Any, url: str, allowed: tuple[str, ...] = LOCAL_SCHEMES) -> Iterator[Any]:
    """``url`` in a fresh page: requests outside ``allowed`` are aborted, and every request
    is recorded; the test fails if any went elsewhere, or if a script raised."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    elsewhere = keep_offline(page, allowed)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(url)
    page.wait_for_load_state("load")
    try:
        yield page
        page.wait_for_timeout(200)           # anything requested late is recorded too
        assert not elsewhere, f"{url} fetched from the network: {sorted(set(elsewhere))}"
        assert not errors, f"{url}: script errors {errors}"
    finally:
        context.close()


def math_typeset(page: Any) -> None:
    """Wait for MathJax to finish; no formula may have failed to parse."""
    page.wait_for_selector("html[data-math-typeset]", state="attached", timeout=30_000)
    assert page.locator("mjx-merror, mjx-container [data-mjx-error]").count() == 0


def file_url(site: Path, page: str) -> str:
    return (site / page).as_uri()


# ---- the three pages, from file:// -------------------------------------------------------
def test_home_page_offline(site: Path, browser: Any) -> None:
    with opened(browser, file_url(site, "index.html")) as page:
        assert "chainrule" in page.title()
        math_typeset(page)
        assert page.locator(".arithmatex mjx-container").count() >= 1
        assert "\\(" not in page.inner_text("article")           # no math left as TeX
        # the navigation reaches every page, each of which exists
        links = page.eval_on_selector_all(".md-nav a.md-nav__link[href]",
                                          "els => els.map(e => e.href)")
        targets = {link.split("#")[0] for link in links if link.startswith("file://")}
        assert len(targets) >= 8 + 11
        for target in targets:
            assert Path(target.removeprefix("file://")).is_file(), target


def test_every_op_page_lists_every_op_with_math(site: Path, browser: Any) -> None:
    with opened(browser, file_url(site, "ops.html")) as page:
        math_typeset(page)
        rows = page.locator("table.cr-ops tbody tr")
        names = [rows.nth(i).get_attribute("data-op") for i in range(rows.count())]
        assert names == [op.name for op in ALL_OPS]
        for i, op in enumerate(ALL_OPS):
            row = rows.nth(i)
            assert row.locator("td").first.inner_text().strip() == op.name
            # the forward formula and one derivative per operand, each typeset
            assert row.locator("mjx-container").count() == 1 + op.arity, op.name
            assert row.locator("td").nth(1).inner_text().strip() == op.symbol
        assert page.locator("mjx-container svg").count() >= len(ALL_OPS)   # drawn as SVG


def test_course_page_stepper_steps(site: Path, browser: Any) -> None:
    with opened(browser, file_url(site, COURSE_PAGE)) as page:
        page.wait_for_selector(".cr-stepper[data-cr-ready]", timeout=30_000)
        stepper = page.locator(".cr-stepper").first
        equation = stepper.locator(".cr-eq")
        before = equation.inner_text()
        stepper.locator(".cr-next").click()
        page.wait_for_function("([el, text]) => el.innerText !== text",
                               arg=[equation.element_handle(), before])
        after = equation.inner_text()
        assert after != before and after.strip()
        assert stepper.get_attribute("data-step") == "1"
        # the static form gave way to the stepper
        assert not page.locator("[id^='cr-fb-']").first.is_visible()
        # the notebook's Markdown math ($...$) is typeset
        math_typeset(page)
        assert page.locator(".jp-MarkdownCell mjx-container").count() >= 5
        # the page links its notebook, copied beside it
        href = page.get_attribute("a[download][href$='.ipynb']", "href")
        assert href and (site / "course" / href).is_file()


def test_course_shows_student_copies(site: Path) -> None:
    """Every course page and its download: no solution line, no answers' test data; an
    exercise's answer cell holds ``...`` and shows no output."""
    nbformat = pytest.importorskip("nbformat")
    pages = sorted((site / "course").glob("[0-9][0-9]_*.ipynb"))
    assert [p.name for p in pages] == sorted(p.name for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    assert len(pages) == 12
    for path in pages:
        master = nbformat.read(ROOT / "notebooks" / path.name, as_version=4)
        copy = nbformat.read(path, as_version=4)
        assert "# SOLUTION" not in (site / "course" / path.with_suffix(".html").name).read_text()
        assert not any("chainrule" in cell.metadata for cell in copy.cells), path.name
        if any("# SOLUTION" in cell.source for cell in master.cells):
            answers = [c for c in copy.cells if "otter_answer_cell" in c.metadata.get("tags", [])]
            assert answers and all(not c.outputs for c in answers), path.name
            assert any(c.outputs for c in copy.cells if c.cell_type == "code"), path.name


# ---- served over HTTP --------------------------------------------------------------------
def test_served_site_works_the_same(site: Path, browser: Any) -> None:
    with served(site) as base:
        allowed = (base, *LOCAL_SCHEMES)
        with opened(browser, base + "ops.html", allowed) as page:
            math_typeset(page)
            assert page.locator("table.cr-ops tbody tr").count() == len(ALL_OPS)
        with opened(browser, base + COURSE_PAGE, allowed) as page:
            page.wait_for_selector(".cr-stepper[data-cr-ready]", timeout=30_000)
            stepper = page.locator(".cr-stepper").first
            before = stepper.locator(".cr-eq").inner_text()
            stepper.locator(".cr-next").click()
            assert stepper.locator(".cr-eq").inner_text() != before


# ---- the course in the browser (CHAINRULE_DOCS_LITE=1) ------------------------------------
def test_default_build_has_no_browser_copy(site: Path) -> None:
    """Without CHAINRULE_DOCS_LITE the site has no lite/ folder and no page links one."""
    assert not (site / "lite").exists()
    assert "cr-run-lite" not in (site / COURSE_PAGE).read_text(encoding="utf-8")


@pytest.mark.parametrize("setting, builds", [("1", True), ("true", True), (False, False),
                                             ("false", False), ("0", False)])
def test_post_build_makes_the_browser_copy_of_the_course_pages(tmp_path: Path, monkeypatch,
                                                               setting, builds) -> None:
    """``extra.lite`` on: the course pages' notebooks (the student copies the pages show) go
    to ``chainrule lite``'s builder, into ``site/lite``; the work folder goes either way."""
    import viz.cli.lite.site as lite_site

    hooks = _hooks()
    work = tmp_path / "work"
    (work / "course").mkdir(parents=True)
    for name in ("01_b.ipynb", "00_a.ipynb"):
        (work / "course" / name).write_text("{}")
    calls = []
    monkeypatch.setattr(lite_site, "build_site", lambda notebooks, output, **kw: calls.append(
        ([p.name for p in notebooks], output)))
    hooks._build["work"] = work
    hooks.on_post_build({"extra": {"lite": setting}, "site_dir": str(tmp_path / "site")})
    assert calls == ([(["00_a.ipynb", "01_b.ipynb"], tmp_path / "site" / "lite")] if builds else [])
    assert not work.exists()


# ---- the course's student copies ---------------------------------------------------------
def _hooks() -> Any:
    spec = importlib.util.spec_from_file_location("docs_hooks", ROOT / "docs" / "hooks.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _master(nbformat: Any) -> Any:
    """A small otter-grader master notebook: one question with a solution and a test."""
    v4 = nbformat.v4
    cells = [
        v4.new_raw_cell("# ASSIGNMENT CONFIG\ninit_cell: true\nexport_cell: false\n"
                        "check_all_cell: false\ngenerate: false\nsave_environment: false\n"),
        v4.new_markdown_cell("# Exercises\nThe derivative of $x^2$."),
        v4.new_code_cell("x = 3.0\nx", outputs=[v4.new_output(
            "execute_result", data={"text/plain": "3.0"}, execution_count=1)]),
        v4.new_raw_cell("# BEGIN QUESTION\nname: q1\npoints: 1"),
        v4.new_markdown_cell("**Question 1.** Compute d(x²)/dx at x."),
        v4.new_raw_cell("# BEGIN SOLUTION"),
        v4.new_code_cell("slope = 2 * x # SOLUTION\nslope", outputs=[v4.new_output(
            "execute_result", data={"text/plain": "6.0"}, execution_count=2)],
            metadata={"chainrule": {"wrong_answers": ["x * x"]}}),
        v4.new_raw_cell("# END SOLUTION"),
        v4.new_raw_cell("# BEGIN TESTS"),
        v4.new_code_cell("assert slope == 6.0"),
        v4.new_raw_cell("# END TESTS"),
        v4.new_code_cell("check_answer(slope, 6.0)", outputs=[v4.new_output(   # the check
            "display_data", data={"text/plain": "✓ right: 6.0"})]),
        v4.new_raw_cell("# END QUESTION"),
        v4.new_code_cell("print(slope + 1)", outputs=[v4.new_output(
            "stream", name="stdout", text="7.0\n")]),
    ]
    nb = v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nbformat.validate(nb)
    return nb


def test_student_copies_with_and_without_exercises(tmp_path: Path) -> None:
    _require("otter")
    nbformat = pytest.importorskip("nbformat")
    hooks = _hooks()
    master = tmp_path / "exercise.ipynb"
    nbformat.write(_master(nbformat), master)
    plain = tmp_path / "plain.ipynb"                        # no exercises
    nbformat.write(nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("# Plain"),
        nbformat.v4.new_code_cell("1 + 1", outputs=[nbformat.v4.new_output(
            "execute_result", data={"text/plain": "2"}, execution_count=1)])]), plain)

    copies = hooks.student_copies([master, plain], tmp_path / "course")

    student = nbformat.read(copies[0], as_version=4)
    nbformat.validate(student)
    sources = [c["source"] for c in student["cells"]]
    assert not any(c["cell_type"] == "raw" for c in student["cells"])   # otter's markers gone
    assert not any("# SOLUTION" in s or "2 * x" in s for s in sources)  # solution taken out
    answer = next(c for c, s in zip(student["cells"], sources) if s.startswith("slope = ..."))
    assert answer["outputs"] == []                                      # as a student gets it
    assert "chainrule" not in answer.metadata                          # its test data dropped
    check = next(c for c, s in zip(student["cells"], sources) if s.startswith("check_answer"))
    assert check["outputs"] == []                          # a check's output shows the answer
    kept = next(c for c, s in zip(student["cells"], sources) if s == "x = 3.0\nx")
    assert kept["outputs"][0]["data"]["text/plain"] == "3.0"           # unchanged: outputs kept
    after = next(c for c, s in zip(student["cells"], sources) if s == "print(slope + 1)")
    assert after["outputs"][0]["text"] == "7.0\n"

    # no ASSIGNMENT CONFIG: the notebook itself, byte for byte
    assert copies[1].read_bytes() == plain.read_bytes()
