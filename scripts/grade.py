"""Grade every homework notebook in a folder with otter, offline, into one CSV.

    python scripts/grade.py SUBMISSIONS_DIR [--out grades.csv] [--autograder ZIP] [--timeout 300] [--jobs 1]

Each ``*.ipynb`` in SUBMISSIONS_DIR is one student (the file's stem). It is run by
``otter run`` (no container: the grading machine's Python needs torch) in a subprocess with a
timeout, and otter's ``results.json`` becomes one row: points per question, the total, and a
``message`` naming what failed (the first assertion of each failing test). A file that is not a
notebook, that times out, or that otter cannot grade still gets a row, with the reason in
``message``; the run never stops at a bad submission. The autograder zip is the newest one that
``make assignments`` wrote under _build/homework/hw1_vae/autograder/ unless --autograder says.
"""
import argparse
import csv
import json
import re
import subprocess
import sys
import tempfile
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
AUTOGRADER_DIR = ROOT / "_build" / "homework" / "hw1_vae" / "autograder"


def find_autograder(folder=AUTOGRADER_DIR):
    """The newest otter autograder zip in ``folder``."""
    zips = sorted(Path(folder).glob("*-autograder_*.zip"), key=lambda p: p.stat().st_mtime)
    if not zips:
        raise FileNotFoundError(f"no autograder zip in {folder}: run `make assignments` first")
    return zips[-1]


def questions(autograder):
    """``{question: max points}`` from the test files inside the autograder zip."""
    out = {}
    with zipfile.ZipFile(autograder) as z:
        for name in sorted(z.namelist()):
            if re.fullmatch(r"tests/[^/]+\.py", name):
                text = z.read(name).decode()
                points = re.search(r"^points = (.+)$", text, flags=re.M)
                out[Path(name).stem] = float(points.group(1)) if points else None
    return out


def _failure(output):
    """The first assertion or error line of a failing test's output."""
    for line in output.splitlines():
        line = line.strip()
        if re.match(r"^[\w.]*(Error|Exception): ", line):
            return line
    return "failed"


def grade_one(notebook, autograder, timeout=300):
    """``({question: points}, message)`` for one submission; never raises."""
    try:
        nbformat.validate(nbformat.read(notebook, as_version=4))
    except Exception as e:  # not JSON, not a notebook
        return {}, f"not a valid notebook: {type(e).__name__}: {str(e).splitlines()[0][:200]}"
    with tempfile.TemporaryDirectory() as out:
        cmd = [sys.executable, "-m", "otter", "run", "-a", str(autograder), "-o", out, "--no-logo",
               str(notebook)]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            return {}, f"grading timed out after {timeout} s"
        results = Path(out) / "results.json"
        if not results.exists():
            tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
            return {}, f"otter could not grade it (exit {proc.returncode}): {tail[0][:300]}"
        tests = json.loads(results.read_text())["tests"]
    scores, messages = {}, []
    for test in tests:
        if "score" not in test:  # the "Public Tests" summary
            continue
        scores[test["name"]] = test["score"]
        if test["score"] < test["max_score"]:
            messages.append(f"{test['name']}: {test['score']:g}/{test['max_score']:g} "
                            f"({_failure(test.get('output', ''))})")
    return scores, "; ".join(messages)


def grade_folder(folder, out_csv, autograder=None, timeout=300, jobs=1):
    """Grade every ``*.ipynb`` in ``folder`` into ``out_csv`` (``jobs`` at a time); returns the rows."""
    autograder = Path(autograder) if autograder else find_autograder()
    qs = questions(autograder)
    notebooks = sorted(Path(folder).glob("*.ipynb"))
    with ThreadPoolExecutor(max(1, jobs)) as pool:
        graded = list(pool.map(lambda nb: grade_one(nb, autograder, timeout), notebooks))
    rows = []
    for notebook, (scores, message) in zip(notebooks, graded):
        missing = [q for q in qs if q not in scores]
        if scores and missing:
            message = "; ".join(filter(None, [message, "no result for " + ", ".join(missing)]))
        row = {"student": notebook.stem}
        for q in qs:
            row[q] = scores.get(q, 0 if scores else "")
        row["total"] = sum(scores.get(q, 0) for q in qs) if scores else ""
        row["message"] = message
        rows.append(row)
        print(f"{notebook.stem}: {row['total']} {message}", file=sys.stderr)
    with open(out_csv, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=["student", *qs, "total", "message"])
        writer.writeheader()
        writer.writerows(rows)
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("submissions", type=Path, help="folder of student notebooks (*.ipynb)")
    parser.add_argument("--out", type=Path, default=Path("grades.csv"), help="CSV to write")
    parser.add_argument("--autograder", type=Path, default=None,
                        help=f"otter autograder zip (default: newest in {AUTOGRADER_DIR})")
    parser.add_argument("--timeout", type=int, default=300, help="seconds per submission")
    parser.add_argument("--jobs", type=int, default=1, help="submissions graded at once")
    args = parser.parse_args(argv)
    if not args.submissions.is_dir():
        parser.error(f"{args.submissions} is not a folder")
    rows = grade_folder(args.submissions, args.out, args.autograder, args.timeout, args.jobs)
    print(f"wrote {len(rows)} rows to {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
