"""The students' copy of the exercises has no answers left, and its checks say so."""
import nbformat
import pytest
import torch.nn.functional as F  # noqa: F401  (the exercise cells use F and torch)

from edu_gen.exercises import ExerciseError
from scripts.make_assignment import ROOT, make_assignment, stub_source

EXERCISES = ROOT / "book" / "exercises.ipynb"


def test_stub_keeps_signature_and_docstring():
    source = 'def f(a, b=2):\n    """Add."""\n    c = a + b\n    return c\n\nx = 1\n\ndef g(y):\n    return y'
    stub = stub_source(source)
    assert 'def f(a, b=2):\n    """Add."""\n    raise NotImplementedError' in stub
    assert "def g(y):\n    raise NotImplementedError" in stub
    assert "return" not in stub and "x = 1" not in stub


def test_a_solution_cell_without_a_function_is_refused():
    with pytest.raises(ValueError, match="must define at least one function"):
        stub_source("x = 1")


def test_the_assignment_has_no_answers_and_every_check_reports_it():
    original = nbformat.read(EXERCISES, as_version=4)
    solutions = [c.source for c in original.cells if "solution" in c.metadata.get("tags", [])]
    assert len(solutions) == 6
    assignment = make_assignment(nbformat.read(EXERCISES, as_version=4))
    code = [c for c in assignment.cells if c.cell_type == "code"]
    assert not any("solution" in c.metadata.get("tags", []) or c.outputs for c in code)
    for answer in solutions:
        assert answer not in "\n".join(c.source for c in code)
    # Run the students' notebook up to each check: every check must say "not implemented".
    namespace = {}
    refused = 0
    for cell in code[1:]:  # cell 1 is the Colab install cell
        if cell.source.startswith("message = expect_rejected") or "assert_close" in cell.source:
            continue  # these cells show mistakes being caught, or compare with the package
        if cell.source.startswith("exercises.check_"):
            with pytest.raises(ExerciseError, match="not implemented yet"):
                exec(cell.source, namespace)
            refused += 1
        else:
            exec(cell.source, namespace)
    assert refused == 6
