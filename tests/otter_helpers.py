"""What the homework tests share: the solution lines of an otter-assign master, running
`otter assign`, running a solution as a student would (training cells included), and planting a
mistake in a copy of it."""
import copy
import json
import re
import subprocess
import sys

import nbformat


def solution_lines(master):
    """The lines between # BEGIN SOLUTION (or # BEGIN SOLUTION NO PROMPT) and # END SOLUTION in
    the master's code cells, and the lines that end in # SOLUTION."""
    lines = []
    for cell in nbformat.read(master, as_version=4).cells:
        if cell.cell_type != "code":
            continue
        inside = False
        for line in cell.source.splitlines():
            if line.strip() in ("# BEGIN SOLUTION", "# BEGIN SOLUTION NO PROMPT"):
                inside = True
            elif line.strip() == "# END SOLUTION":
                inside = False
            elif (inside or line.rstrip().endswith("# SOLUTION")) and line.strip():
                lines.append(line.replace("# SOLUTION", "").strip())
    return lines


def otter_assign(master, out, timeout=180):
    """Run `otter assign` on ``master`` into ``out``; fail the test with otter's output."""
    proc = subprocess.run([sys.executable, "-m", "otter", "assign", str(master), str(out)],
                          capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return out


def edit(notebook, old, new):
    """The notebook (a path or a notebook) with ``old`` replaced by ``new`` in the one code cell
    that holds it once."""
    nb = copy.deepcopy(notebook) if isinstance(notebook, dict) else nbformat.read(notebook, as_version=4)
    hits = [c for c in nb.cells if c.cell_type == "code" and old in c.source]
    assert len(hits) == 1 and hits[0].source.count(old) == 1, f"{old!r} is not once in the solution"
    hits[0].source = hits[0].source.replace(old, new)
    return nb


def points_of(row, points):
    """The points of each question in ``points`` that a grades-CSV row gave, as floats."""
    return {q: float(row[q]) for q in points}


def assert_full_marks(row, points):
    """The row has every question's points, their sum as total, and no message."""
    assert points_of(row, points) == points, row
    assert float(row["total"]) == sum(points.values())
    assert row["message"] == ""


def execute(notebook, out, before=None, timeout=1800):
    """Run every cell of ``notebook`` (training cells included) as a student would, in its own
    folder, and write it with its outputs to ``out``; ``before``: ``(text of a cell, source of a
    cell to run before it)``. Fails the test on a cell error."""
    from nbclient import NotebookClient
    nb = nbformat.read(notebook, as_version=4)
    if before is not None:
        text, source = before
        i = next(i for i, c in enumerate(nb.cells) if c.cell_type == "code" and text in c.source)
        nb.cells.insert(i, nbformat.v4.new_code_cell(source))
    NotebookClient(nb, kernel_name="python3", timeout=timeout, allow_errors=True,
                   resources={"metadata": {"path": str(notebook.parent)}}).execute()
    failed = [o for c in nb.cells for o in c.get("outputs", []) if o.output_type == "error"]
    assert not failed, [f"{o.ename}: {o.evalue}" for o in failed]
    if before is not None:
        del nb.cells[i]
    nbformat.write(nb, out)
    return out


# A clock ten times slow stands in for a slow machine: the training cell prints ten times the seconds.
SLOW_CLOCK = "import time\n_fast = time.perf_counter\ntime.perf_counter = lambda: 10 * _fast()"


def printed_json(nb, text):
    """The last JSON line printed by the code cell that holds ``text``."""
    cell = next(c for c in nb.cells if c.cell_type == "code" and text in c.source)
    lines = [l for o in cell.outputs if o.output_type == "stream" for l in o.text.splitlines()]
    return json.loads(next(l for l in reversed(lines) if l.startswith("{")))


def kept_text(nb, question):
    """The text of the output that carries ``question``'s weights."""
    from edu_gen.homework import MIME
    return next(o.data[MIME] for c in nb.cells for o in c.get("outputs", [])
                if MIME in o.get("data", {}) and o.metadata[MIME]["question"] == question)


def with_kept(nb, question, text):
    """A copy of ``nb`` whose output for ``question``'s weights carries ``text`` instead."""
    from edu_gen.homework import MIME
    nb = copy.deepcopy(nb)
    for c in nb.cells:
        for o in c.get("outputs", []):
            if MIME in o.get("data", {}) and o.metadata[MIME]["question"] == question:
                o.data[MIME] = text
    return nb


def emptied(nb, text, pasted=""):
    """A copy of ``nb`` whose code cell holding ``text`` is emptied of code and outputs (a student
    who did not train), with ``pasted`` as its source: figures typed in, say."""
    nb = copy.deepcopy(nb)
    cell = next(c for c in nb.cells if c.cell_type == "code" and text in c.source)
    cell.source, cell.outputs = pasted, []
    return nb


def message_parts(message):
    """``{question: its part of a grades-CSV message}`` (the parts are joined by "; ")."""
    parts = re.split(r"; (?=q\d+: )", message) if message else []
    return {part.split(":", 1)[0]: part for part in parts}


def assert_lost(row, points, lost):
    """The row lost all the points of each question of ``lost`` ({question: phrase}) and none of
    the others, and each such question's part of the message holds its phrase."""
    want = dict(points, **dict.fromkeys(lost, 0.0))
    assert points_of(row, points) == want, row
    assert float(row["total"]) == sum(want.values())
    parts = message_parts(row["message"])
    for question, phrase in lost.items():
        assert parts.get(question, "").startswith(f"{question}: 0/"), (question, row["message"])
        assert phrase in parts[question], (question, phrase, row["message"])


def imported_modules(sources):
    """The top-level modules that ``sources`` (Python code, IPython magics dropped) import."""
    import ast
    found = set()
    for source in sources:
        code = "\n".join(l for l in source.splitlines() if not l.lstrip().startswith(("%", "!")))
        for node in ast.walk(ast.parse(code)):
            if isinstance(node, ast.Import):
                found |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                found.add(node.module.split(".")[0])
    return found


def installed_closure(requirements):
    """The distributions that pip installs for ``requirements`` (names with extras), as this
    environment's metadata says: each one and, recursively, what it requires."""
    import importlib.metadata as metadata
    from packaging.requirements import Requirement
    seen, todo = set(), [(Requirement(r), set()) for r in requirements]
    while todo:
        requirement, _ = todo.pop()
        name = requirement.name.lower().replace("_", "-")
        key = (name, tuple(sorted(requirement.extras)))
        if key in seen:
            continue
        seen.add(key)
        try:
            requires = metadata.requires(name) or []
        except metadata.PackageNotFoundError:   # not installed here (an extra's package): a leaf
            requires = []
        for line in requires:
            dependency = Requirement(line)
            extras = [{"extra": e} for e in requirement.extras] or [{"extra": ""}]
            if dependency.marker is None or any(dependency.marker.evaluate(e) for e in extras):
                todo.append((dependency, set()))
    return {name for name, _ in seen}


def assert_grading_image_complete(assigned, homework):
    """The environment.yml of the autograder zip (otter grade builds its Docker image from it)
    installs every module that the tests and the graded cells of the notebook import."""
    import importlib.metadata as metadata
    import zipfile
    import yaml
    zip_path = next((assigned / "autograder").glob("*-autograder_*.zip"))
    with zipfile.ZipFile(zip_path) as z:
        environment = yaml.safe_load(z.read("environment.yml"))
        tests = [z.read(n).decode() for n in z.namelist() if n.startswith("tests/")]
    assert "python=3.11" in environment["dependencies"], environment
    pip = next(d["pip"] for d in environment["dependencies"] if isinstance(d, dict))
    names = [re.sub(r"\s*@.*", "", r) for r in pip]   # "edu-gen @ https://..." -> "edu-gen"
    installed = installed_closure(names)
    cells = nbformat.read(assigned / "autograder" / f"{homework}.ipynb", as_version=4).cells
    graded = [c.source for c in cells if c.cell_type == "code"
              and "otter_ignore" not in c.metadata.get("tags", [])]
    owners = metadata.packages_distributions()
    missing = {}
    for module in imported_modules(tests + graded) - set(sys.stdlib_module_names):
        dists = {d.lower().replace("_", "-") for d in owners.get(module, [module])}
        if not dists & installed:
            missing[module] = sorted(dists)
    assert not missing, f"the grading image of {homework} lacks {missing}: add them to homework/requirements.txt"
    return pip
