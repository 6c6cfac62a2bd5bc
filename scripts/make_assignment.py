"""Write the students' copy of an exercise notebook: every solution becomes a stub.

    python scripts/make_assignment.py                      # book/exercises.ipynb -> assignments/
    python scripts/make_assignment.py book/exercises.ipynb out/week3.ipynb

A cell tagged ``solution`` keeps each function's signature and docstring; its body becomes
``raise NotImplementedError``, which the checks of ``edu_gen.exercises`` report as "not
implemented yet". Outputs are cleared and the tags ``solution``/``hide-input`` removed, so
nothing of the answer is left in the file.
"""
import ast
import sys
from pathlib import Path

import nbformat

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


def main(source="book/exercises.ipynb", target="assignments/exercises.ipynb"):
    notebook = make_assignment(nbformat.read(ROOT / source, as_version=4))
    target = ROOT / target
    target.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, target)
    print(f"wrote {target.relative_to(ROOT)}: hand it out; `pytest --nbval-lax {target.name}` grades it")


if __name__ == "__main__":
    main(*sys.argv[1:])
