"""Write the students' copy of an exercise notebook, and what the graded homework needs on Colab.

    python scripts/make_assignment.py                      # book/exercises.ipynb -> assignments/
    python scripts/make_assignment.py book/exercises.ipynb out/week3.ipynb
    python scripts/make_assignment.py --homework           # after `otter assign` (make assignments)

Exercises: a cell tagged ``solution`` keeps each function's signature and docstring; its body
becomes ``raise NotImplementedError``, which the checks of ``edu_gen.exercises`` report as "not
implemented yet". Outputs are cleared and the tags ``solution``/``hide-input`` removed, so
nothing of the answer is left in the file.

Homework (``--homework``): on Colab otter reads no tests from the notebook's metadata (otter 7's
``check/notebook.py`` refuses them there), only files in ``./tests``. So the first code cell of
each master (``homework_colab_cell``) fetches the public tests from the repository, and this
command writes them there: ``homework/HW/tests/qN.py``, the public tests of the student's copy
that ``otter assign`` wrote under ``_build/homework/HW/student/`` (no hidden test among them). It
also rewrites each master's first code cell when it differs from ``homework_colab_cell``.
"""
import ast
import json
import sys
from pathlib import Path

import nbformat
import yaml

ROOT = Path(__file__).resolve().parents[1]
STUB = '    raise NotImplementedError("your code here")'


def stub_source(source):
    """Each top-level function in ``source`` with its body replaced by a stub."""
    tree = ast.parse(source)
    lines = source.splitlines()
    stubs = []
    for node in tree.body:
        if not isinstance(node, ast.FunctionDef):
            continue
        body_start = node.body[0]
        keep_docstring = (isinstance(body_start, ast.Expr) and isinstance(body_start.value, ast.Constant)
                          and isinstance(body_start.value.value, str))
        header_end = body_start.end_lineno if keep_docstring else body_start.lineno - 1
        stubs.append("\n".join(lines[node.lineno - 1: header_end] + [STUB]))
    if not stubs:
        raise ValueError("a cell tagged 'solution' must define at least one function")
    return "\n\n\n".join(stubs)


def make_assignment(notebook):
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        tags = cell.metadata.get("tags", [])
        if "solution" in tags:
            cell.source = stub_source(cell.source)
            cell.metadata["tags"] = [t for t in tags if t not in ("solution", "hide-input")]
        cell.outputs, cell.execution_count = [], None
    return notebook


HOMEWORKS = ("hw1_vae", "hw2_gan", "hw3_rate_distortion")
COLAB_MARKER = "# On Colab (otter's own test: the IPython shell is google.colab's)"


def repository():
    """(url, branch) of the repository, from _config.yml: the one place they are written."""
    config = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]
    return config["url"], config["branch"]


def public_tests_url(homework, url=None, branch=None):
    """Where the Colab cell fetches ``homework``'s public test files from (raw files on GitHub)."""
    default_url, default_branch = repository()
    base = (url or default_url).replace("https://github.com/", "https://raw.githubusercontent.com/")
    return f"{base}/{branch or default_branch}/homework/{homework}/tests"


def homework_colab_cell(homework, questions, url=None, tests_url=None):
    """The first code cell of a homework master: on Colab, install otter-grader and edu_gen and
    fetch the public tests of ``questions`` into ./tests; then start otter's grader."""
    url = url or repository()[0]
    tests_url = tests_url or public_tests_url(homework)
    return f"""{COLAB_MARKER}, install otter-grader
# and edu_gen, and fetch the public tests into ./tests: there otter reads no tests from the notebook.
COLAB = "google.colab" in str(get_ipython())
if COLAB:
    %pip install --quiet otter-grader==7.0.0 "edu-gen @ git+{url}"
    import os, urllib.request
    TESTS = "{tests_url}"
    os.makedirs("tests", exist_ok=True)
    for question in {json.dumps(list(questions))}:
        try:
            urllib.request.urlretrieve(f"{{TESTS}}/{{question}}.py", f"tests/{{question}}.py")
        except OSError as error:
            raise RuntimeError(f"could not fetch the public test of {{question}} ({{error}}): "
                               "grader.check needs it; is the runtime online?") from None

import otter
grader = otter.Notebook(None if COLAB else "{homework}.ipynb")"""


def public_tests(student_notebook):
    """``{question: test file text}``: the tests otter assign left in the student's copy (public only)."""
    tests = nbformat.read(student_notebook, as_version=4).metadata["otter"]["tests"]
    return {question: text if text.endswith("\n") else text + "\n" for question, text in tests.items()}


def write_homework_files(build=ROOT / "_build" / "homework"):
    """The public tests of each homework into homework/HW/tests/, and each master's Colab cell."""
    for homework in HOMEWORKS:
        tests = public_tests(build / homework / "student" / f"{homework}.ipynb")
        folder = ROOT / "homework" / homework / "tests"
        folder.mkdir(exist_ok=True)
        for old in folder.glob("*.py"):
            if old.stem not in tests:
                old.unlink()
        for question, text in tests.items():
            (folder / f"{question}.py").write_text(text)
        master = ROOT / "homework" / homework / f"{homework}.ipynb"
        notebook = nbformat.read(master, as_version=4)
        cell = next(c for c in notebook.cells if c.cell_type == "code")
        source = homework_colab_cell(homework, sorted(tests))
        if cell.source != source:
            cell.source = source
            nbformat.write(notebook, master)
            print(f"rewrote the Colab cell of {master.relative_to(ROOT)}: run make assignments again")
        print(f"wrote {len(tests)} public tests to {folder.relative_to(ROOT)}")


def main(source="book/exercises.ipynb", target="assignments/exercises.ipynb"):
    notebook = make_assignment(nbformat.read(ROOT / source, as_version=4))
    target = ROOT / target
    target.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, target)
    print(f"wrote {target.relative_to(ROOT)}: hand it out; `pytest --nbval-lax {target.name}` grades it")


if __name__ == "__main__":
    if sys.argv[1:] == ["--homework"]:
        write_homework_files()
    else:
        main(*sys.argv[1:])
