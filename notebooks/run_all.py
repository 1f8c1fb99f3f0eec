"""Re-execute every notebook of the course in place, storing fresh outputs.

Run from anywhere:  python notebooks/run_all.py [NAME_FRAGMENT ...]
Each notebook runs top to bottom in a fresh ``python3`` kernel started in this folder, with
single-threaded BLAS (as the test suite does).
"""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import nbclient
import nbformat

HERE = Path(__file__).resolve().parent


def main(fragments: list[str]) -> None:
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    for path in sorted(HERE.glob("[0-9][0-9]_*.ipynb")):
        if fragments and not any(f in path.name for f in fragments):
            continue
        nb = nbformat.read(path, as_version=4)
        start = time.perf_counter()
        # no widget state in the file: a client without the kernel (nbconvert, the docs site,
        # GitHub) then shows a live view's static record, not an empty widget (viz.live)
        nbclient.NotebookClient(nb, timeout=120, kernel_name="python3", store_widget_state=False,
                                shutdown_kernel="immediate",
                                resources={"metadata": {"path": str(HERE)}}).execute(env=env)
        nb.metadata.pop("widgets", None)
        nbformat.write(nb, path)
        print(f"{path.name}: {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main(sys.argv[1:])
