"""Grade every homework notebook in a folder with otter, offline, into one CSV.

    python scripts/grade.py SUBMISSIONS_DIR [--homework hw1_vae|hw2_gan|hw3_rate_distortion] [--out grades.csv]
                            [--autograder ZIP] [--timeout 300] [--jobs 1]

Each ``*.ipynb`` in SUBMISSIONS_DIR is one student (the file's stem). It is run by
``otter run`` (no container: the grading machine's Python needs torch) in a subprocess with a
timeout, and otter's ``results.json`` becomes one row: points per question, the total, and a
``message`` naming what failed (the first assertion of each failing test). When a cell of the
question raised an error (a syntax error, an import of a missing module), that error comes first:
``q3: 0/3 (the cell `def negative_elbo(...` raised SyntaxError: ...; then: AssertionError:
negative_elbo is not defined ...)``. The training cells are not rerun (otter_ignore): their
questions are graded from the weights that the notebook's saved outputs carry
(``edu_gen.homework``), so grading one submission takes seconds of evaluation, not minutes of
training. A file that is not a notebook, or that otter cannot grade, still gets a row, with the
reason in ``message``; the run never stops at a bad submission. The autograder zip is the newest one that ``make assignments``
wrote under _build/homework/HOMEWORK/autograder/ (``--homework``, hw1_vae by default) unless
--autograder says.

A cell that loops forever or kills its kernel (``os._exit``, a segfault, out of memory) costs
its question, not the whole notebook. ``otter run`` 7.0 executes the notebook with nbclient
without a per-cell time limit, and when the kernel dies it stops with ``DeadKernelError`` and
writes no results; either way nothing is graded. So before otter sees the notebook, a one-line
cell goes in front of each code cell that writes that cell's number to a file (the first one also
has IPython note every cell that raises, with its number, in another file), and the notebook
takes the name its ``otter.Notebook("...")`` cell reads (under another name that cell fails, the
``grader.check`` cells with it, and otter's last cell runs every test at once). When otter runs
past ``timeout`` s or the kernel dies, the last number written names the cell that was running:
the cell is emptied, the tests of its question (the question whose ``grader.check`` is in it or
comes next) are left out of the autograder zip, and otter runs again, ``timeout`` s at most per
run. That question gets 0, with the reason in ``message``; the others are graded as usual. Where
no cell can be blamed (a loop in otter's own last cell, for a question whose ``grader.check`` cell
was deleted), every question gets 0, with the reason.
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
import psutil

ROOT = Path(__file__).resolve().parents[1]
HOMEWORKS = ("hw1_vae", "hw2_gan", "hw3_rate_distortion")


def autograder_dir(homework="hw1_vae"):
    """The folder where ``make assignments`` writes ``homework``'s autograder zip."""
    if homework not in HOMEWORKS:
        raise ValueError(f"unknown homework {homework!r}: use one of {HOMEWORKS}")
    return ROOT / "_build" / "homework" / homework / "autograder"


AUTOGRADER_DIR = autograder_dir("hw1_vae")


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


ERROR_HOOK = """\
def _grader_cell_error(result, errors=r"{errors}", progress=r"{progress}"):
    error = result.error_before_exec or result.error_in_exec
    if error is not None:
        import json, os
        cell = int(open(progress).read()) if os.path.exists(progress) else -1
        with open(errors, "a") as f:
            f.write(json.dumps([cell, f"{{type(error).__name__}}: {{error}}"]) + "\\n")
get_ipython().events.register("post_run_cell", _grader_cell_error)
del _grader_cell_error
"""


def _marked(nb, progress, errors=None):
    """A copy of ``nb`` with, before each code cell and at the end, a cell that writes the index
    (in ``nb``) of the cell that comes next to the file ``progress``; with ``errors``, the first
    such cell also has every cell that raises append ``[its index, "Type: message"]`` to that file."""
    cells, hooked = [], errors is None
    for i, cell in enumerate([*nb.cells, None]):
        if cell is None or cell.cell_type == "code":
            source = f'open(r"{progress}", "w").write("{i}");'
            if not hooked:
                source, hooked = ERROR_HOOK.format(errors=errors, progress=progress) + source, True
            marker = nbformat.v4.new_code_cell(source, id=f"grader-marker-{i}")
            if nb.nbformat_minor < 5:  # cell ids came with nbformat 4.5
                del marker["id"]
            cells.append(marker)
        if cell is not None:
            cells.append(cell)
    return nbformat.from_dict(dict(nb, cells=cells))


def _cell_errors(nb, errors):
    """``{question: "the cell `...` raised Type: message"}`` from the ``errors`` file of a run:
    the first error of the cells that belong to each question (see ``_question_of``)."""
    found = {}
    if not Path(errors).exists():
        return found
    for line in Path(errors).read_text().splitlines():
        i, error = json.loads(line)
        if not 0 <= i < len(nb.cells):
            continue
        question = _question_of(nb.cells, i)
        first = next((l.strip() for l in nb.cells[i].source.splitlines() if l.strip()), "")
        found.setdefault(question, f"the cell `{first[:60]}` raised {error.splitlines()[0][:200]}")
    return found


def _without_tests(autograder, skip, folder):
    """``autograder``, or a copy in ``folder`` without the tests of the questions in ``skip``."""
    if not skip:
        return autograder
    path = Path(folder) / "autograder.zip"
    with zipfile.ZipFile(autograder) as src, zipfile.ZipFile(path, "w") as dst:
        for item in src.infolist():
            if item.filename not in {f"tests/{q}.py" for q in skip}:
                dst.writestr(item, src.read(item))
    return path


def _kill_tree(proc):
    """Kill ``proc`` and its children: otter starts its kernel in a session of its own."""
    try:
        procs = [*psutil.Process(proc.pid).children(recursive=True), psutil.Process(proc.pid)]
    except psutil.NoSuchProcess:
        procs = []
    for p in procs:
        try:
            p.kill()
        except psutil.NoSuchProcess:
            pass
    proc.communicate()


def _otter(notebook, autograder, out, timeout):
    """``(tests of results.json or None, why not, whether a cell is to blame)`` for one run."""
    cmd = [sys.executable, "-m", "otter", "run", "-a", str(autograder), "-o", str(out), "--no-logo",
           str(notebook)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_tree(proc)
        return None, f"timed out after {timeout} s in {{where}}: an infinite loop?", True
    results = Path(out) / "results.json"
    if results.exists():
        return json.loads(results.read_text())["tests"], "", False
    if "DeadKernelError" in stderr:
        return None, "the kernel died in {where} (os._exit, a segfault, out of memory?)", True
    tail = (stderr or stdout).strip().splitlines()[-1:] or ["no output"]
    return None, f"otter could not grade it (exit {proc.returncode}): {tail[0][:300]}", False


def _question_of(cells, i):
    """The question whose ``grader.check`` is in cell ``i`` or the first code cell after it."""
    for cell in cells[i:]:
        found = re.search(r"""\.check\(\s*["'](\w+)["']""", cell.source)
        if cell.cell_type == "code" and found:
            return found.group(1)
    return None


def grade_one(notebook, autograder, timeout=300):
    """``({question: points}, message)`` for one submission; never raises."""
    try:
        nb = nbformat.read(notebook, as_version=4)
        nbformat.validate(nb)
    except Exception as e:  # not JSON, not a notebook
        return {}, f"not a valid notebook: {type(e).__name__}: {str(e).splitlines()[0][:200]}"
    qs = questions(autograder)
    skipped, notes = {}, []  # {question: why its cell was emptied}, the same for other cells
    with tempfile.TemporaryDirectory() as tmp:
        # the name that the notebook's otter.Notebook("...") reads, so that its grader.check cells
        # run (under another name they fail and otter's last cell runs every test)
        name = re.search(r"""otter\.Notebook\([^\n]*?["']([^"']+\.ipynb)["']""",
                         "\n".join(c.source for c in nb.cells if c.cell_type == "code"))
        progress, errors = Path(tmp) / "progress", Path(tmp) / "errors"
        submission = Path(tmp) / (name.group(1) if name else Path(notebook).name)
        for _ in range(len(qs) + 2):  # each run after the first empties one more cell
            progress.unlink(missing_ok=True)
            errors.unlink(missing_ok=True)
            (Path(tmp) / "results.json").unlink(missing_ok=True)
            nbformat.write(_marked(nb, progress, errors), submission)
            tests, why, blame = _otter(submission, _without_tests(autograder, skipped, tmp), tmp,
                                       timeout)
            if tests is not None:
                break
            if not blame:
                return {}, why
            if not progress.exists():
                return {}, why.format(where="otter's set-up cells")
            i = int(progress.read_text())
            if i >= len(nb.cells):
                return dict.fromkeys(qs, 0.0), "every question gets 0: " + why.format(
                    where="otter's last cell (the tests of questions without grader.check)")
            line = next((l.strip() for l in nb.cells[i].source.splitlines() if l.strip()), "")
            why = why.format(where=f"the cell `{line[:60]}`")
            nb.cells[i].source = f"# emptied by the grader: {why}"
            question = _question_of(nb.cells, i)
            if question not in qs or question in skipped:
                notes.append(why)
            else:
                skipped[question] = why
        else:
            why = f"every question gets 0 (gave up after {len(qs) + 2} runs): {why}"
            return dict.fromkeys(qs, 0.0), why
        raised = _cell_errors(nb, errors)
    scores, messages = {}, {}
    for test in tests:
        if "score" not in test:  # the "Public Tests" summary
            continue
        scores[test["name"]] = test["score"]
        if test["score"] < test["max_score"]:
            why = _failure(test.get("output", ""))
            if test["name"] in raised:   # the real error first: "not defined" follows from it
                why = f"{raised[test['name']]}; then: {why}"
            messages[test["name"]] = f"{test['name']}: {test['score']:g}/{test['max_score']:g} ({why})"
    for question, why in skipped.items():
        scores[question] = 0.0
        messages[question] = f"{question}: 0/{qs.get(question) or 0:g} ({why})"
    return scores, "; ".join([*(messages[q] for q in sorted(messages)), *notes])


def grade_folder(folder, out_csv, autograder=None, timeout=300, jobs=1, homework="hw1_vae"):
    """Grade every ``*.ipynb`` in ``folder`` into ``out_csv`` (``jobs`` at a time); returns the rows.
    Without ``autograder``, the newest zip of ``homework`` that ``make assignments`` wrote."""
    autograder = Path(autograder) if autograder else find_autograder(autograder_dir(homework))
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
    parser.add_argument("--homework", choices=HOMEWORKS, default="hw1_vae",
                        help="which homework (default: hw1_vae); chooses the autograder folder")
    parser.add_argument("--autograder", type=Path, default=None,
                        help="otter autograder zip (default: newest in "
                             "_build/homework/HOMEWORK/autograder)")
    parser.add_argument("--timeout", type=int, default=300,
                        help="seconds per otter run (a notebook that loops or crashes runs again)")
    parser.add_argument("--jobs", type=int, default=1, help="submissions graded at once")
    args = parser.parse_args(argv)
    if not args.submissions.is_dir():
        parser.error(f"{args.submissions} is not a folder")
    rows = grade_folder(args.submissions, args.out, args.autograder, args.timeout, args.jobs,
                        args.homework)
    print(f"wrote {len(rows)} rows to {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
