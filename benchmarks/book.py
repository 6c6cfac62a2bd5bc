"""``python -m benchmarks.book``: execute every notebook of the book and time each one.

Runs each notebook under ``book/`` (or the paths given) once with nbclient, in the profile
of ``EDU_GEN_PROFILE`` (``quick`` unless set), in its own kernel, outputs discarded, and
prints a table of seconds per notebook: where the time of ``make book`` goes.
"""
import os
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient


def time_notebook(path, timeout=1800):
    """Seconds to execute ``path`` from a fresh kernel (the kernel start included)."""
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(notebook, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(Path(path).parent)}})
    start = time.perf_counter()
    client.execute()
    return time.perf_counter() - start


def main(paths):
    os.environ.setdefault("EDU_GEN_PROFILE", "quick")
    paths = paths or sorted(str(p) for p in Path("book").rglob("*.ipynb")
                            if ".ipynb_checkpoints" not in p.parts and "_build" not in p.parts)
    print(f"profile {os.environ['EDU_GEN_PROFILE']}, {len(paths)} notebooks, "
          f"load average {os.getloadavg()[0]:.2f}")
    total = 0.0
    for path in paths:
        try:
            seconds = time_notebook(path)
            note = ""
        except Exception as error:  # a failing notebook is reported, the others still run
            seconds, note = float("nan"), f"  FAILED: {type(error).__name__}"
        total += 0.0 if seconds != seconds else seconds
        print(f"| {path} | {seconds:.0f} s |{note}", flush=True)
    print(f"| total | {total:.0f} s |")


if __name__ == "__main__":
    main(sys.argv[1:])
