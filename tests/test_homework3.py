"""Homework 3 (the open project, a beta-VAE rate-distortion curve, otter-grader): otter assign
builds it offline, the student's copy holds no solution and no rubric, the solution earns full
autograded marks, and each usual mistake costs exactly its question. The sweep of q2 is not rerun
here: its cell is tagged otter_ignore, and q2 and q3 grade the figures that the student copied into
``sweep_figures``. Questions 4 and 5 are graded by hand (rubric in the master's solution)."""
import csv
import json
import re

import nbformat
import pytest

from tests.otter_helpers import assert_full_marks, edit, otter_assign, points_of, solution_lines
from scripts.grade import ROOT, autograder_dir, find_autograder, grade_folder, questions

NAME = "hw3_rate_distortion"
MASTER = ROOT / "homework" / NAME / f"{NAME}.ipynb"
POINTS = {"q1": 3.0, "q2": 2.0, "q3": 1.0}   # and q4 (3 points) and q5 (6 points) by hand


def master_figures():
    """The ``sweep_figures`` dict written in the master, and its text there."""
    cells = nbformat.read(MASTER, as_version=4).cells
    line = next(l for c in cells for l in c.source.splitlines() if l.startswith("sweep_figures = "))
    text = line.split("=", 1)[1].split("#")[0].strip()
    return json.loads(text), text


def figures_with(**changes):
    """(old, new): the master's sweep_figures text, and the same with ``changes`` applied to it."""
    figures, text = master_figures()
    new = dict(figures)
    for key, change in changes.items():
        new[key] = change(figures[key])
    return text, json.dumps(new)


PLANTED = [
    # (student, text in the solution, what replaces it, the question that must lose all its
    #  points, a phrase the CSV message must contain)
    ("distortion_per_pixel", 'reduction="none").sum(1)', 'reduction="none").mean(1)', "q1",
     "averaged over the pixels"),
    ("kl_summed_over_batch", 'return {"rate": rate.mean().item()', 'return {"rate": rate.sum().item()',
     "q1", "summed over the batch"),
    ("posterior_mean", "z = mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)", "z = mu", "q1",
     "posterior mean"),
    ("calls_evaluate", "def rate_and_distortion(model, images, seed=0):\n",
     "from edu_gen.vae_eval import evaluate\n\n\ndef rate_and_distortion(model, images, seed=0):\n"
     "    return evaluate(model, images, seed=seed, batch_size=len(images))\n\n\n"
     "def unused(model, images, seed=0):\n", "q1", "calls edu_gen's evaluate"),
    ("rate_rises", *figures_with(rate=lambda r: r[::-1]), "q2", "the rate rises"),
    ("off_curve", *figures_with(distortion=lambda d: [round(v + 15, 2) for v in d]), "q2",
     "above the reference curve"),
    ("not_lowest_fd", "best_beta_for_samples = 4.0", "best_beta_for_samples = 1.0", "q3",
     "choose the beta with the lowest FD"),
]
# Questions read different names (q1 the function, q2 and q3 the pasted figures), so mistakes in
# different questions share a notebook: four notebooks instead of seven keep the test near a minute.
NOTEBOOKS = {"pixels_and_rising": ("distortion_per_pixel", "rate_rises"),
             "batch_and_fd": ("kl_summed_over_batch", "not_lowest_fd"),
             "mean_code_and_off_curve": ("posterior_mean", "off_curve"),
             "calls_evaluate": ("calls_evaluate",)}


@pytest.fixture(scope="module")
def assigned(tmp_path_factory):
    return otter_assign(MASTER, tmp_path_factory.mktemp(NAME))


@pytest.fixture(scope="module")
def graded(assigned, tmp_path_factory):
    """Grade, in one run, the solution, every planted mistake and the unanswered notebook."""
    solution = assigned / "autograder" / f"{NAME}.ipynb"
    subs = tmp_path_factory.mktemp("submissions")
    nbformat.write(nbformat.read(solution, as_version=4), subs / "solution.ipynb")
    planted = {p[0]: p for p in PLANTED}
    for notebook, mistakes in NOTEBOOKS.items():
        path = subs / f"{notebook}.ipynb"
        nbformat.write(nbformat.read(solution, as_version=4), path)
        for mistake in mistakes:
            _, old, new, _, _ = planted[mistake]
            nbformat.write(edit(path, old, new), path)
    student = nbformat.read(assigned / "student" / f"{NAME}.ipynb", as_version=4)
    nbformat.write(student, subs / "unanswered.ipynb")
    out = subs / "grades.csv"
    grade_folder(subs, out, autograder=find_autograder(assigned / "autograder"), timeout=300, jobs=2)
    with open(out, newline="") as f:
        return {row["student"]: row for row in csv.DictReader(f)}


def test_autograder_zip_has_every_autograded_question(assigned):
    assert questions(find_autograder(assigned / "autograder")) == POINTS


def test_student_notebook_has_no_solution(assigned):
    student = (assigned / "student" / f"{NAME}.ipynb").read_text()
    code = "\n".join(c.source for c in nbformat.reads(student, as_version=4).cells
                     if c.cell_type == "code")
    lines = solution_lines(MASTER)
    assert len(lines) >= 25
    for line in lines:
        assert line not in code, line
    # the hidden tests, the model answer and the rubric stay in the autograder's copy only
    autograder = (assigned / "autograder" / f"{NAME}.ipynb").read_text()
    for hidden in ("test_rate_and_distortion_digits", "test_sweep_meets_theory_and_reference",
                   "test_best_beta_is_inside", "Model answer", "**Rubric.**"):
        assert hidden not in student and hidden in autograder, hidden
    assert re.search(r"def rate_and_distortion\(model, images, seed=0\):", student)


def test_sweep_cell_is_not_run_by_the_grader(assigned):
    cells = nbformat.read(assigned / "student" / f"{NAME}.ipynb", as_version=4).cells
    training = [c for c in cells if c.cell_type == "code" and "train_vae" in c.source]
    assert len(training) == 1 and "otter_ignore" in training[0].metadata.get("tags", [])
    # the student keeps the settings, the check against evaluate and the printed line
    for kept in ("SIZES = dict(hidden=(256,), latent_dim=10)", "EPOCHS, LR = 15, 2e-3",
                 "evaluate(models[beta], x_test)", "print(json.dumps(printed_figures))"):
        assert kept in training[0].source, kept
    lines = [l for c in cells for l in c.source.splitlines()]
    assert "sweep_figures = ..." in lines and "best_beta_for_samples = ..." in lines
    # the hand-graded questions: a plot cell and an answer cell, no test file
    assert any("Question 4 (3 points, graded by hand)" in c.source for c in cells)
    assert any("Question 5 (6 points, graded by hand)" in c.source for c in cells)
    assert any(c.cell_type == "markdown" and "Type your answer here" in c.source for c in cells)


def test_colab_install_is_guarded():
    cells = nbformat.read(MASTER, as_version=4).cells
    first_code = next(c for c in cells if c.cell_type == "code").source
    assert 'if "google.colab" in sys.modules:\n    %pip install --quiet otter-grader==7.0.0 ' \
           '"edu-gen @ git+' in first_code
    assert f'otter.Notebook("{NAME}.ipynb")' in first_code


def test_master_figures_are_a_full_sweep():
    """The master's figures are those its training cell printed (see book/instructors.md)."""
    figures, _ = master_figures()
    assert figures["beta"] == [0.25, 0.5, 1.0, 2.0, 4.0, 8.0]
    assert figures["seconds"] <= 180
    fd = figures["fd"]
    best = next(l for c in nbformat.read(MASTER, as_version=4).cells for l in c.source.splitlines()
                if l.startswith("best_beta_for_samples = "))
    assert float(best.split("=")[1].split("#")[0]) == figures["beta"][fd.index(min(fd))]


def test_grade_knows_the_homework():
    assert autograder_dir(NAME) == ROOT / "_build" / "homework" / NAME / "autograder"
    assert NAME in (ROOT / "Makefile").read_text()


def test_solution_gets_full_marks(graded):
    assert_full_marks(graded["solution"], POINTS)


@pytest.mark.parametrize("student, old, new, question, phrase", PLANTED, ids=[p[0] for p in PLANTED])
def test_planted_mistake_costs_its_question(graded, student, old, new, question, phrase):
    notebook, mistakes = next((n, m) for n, m in NOTEBOOKS.items() if student in m)
    row = graded[notebook]
    lost = {p[3] for p in PLANTED if p[0] in mistakes}   # one question per mistake of the notebook
    assert len(lost) == len(mistakes)
    want = dict(POINTS, **dict.fromkeys(lost, 0.0))
    assert points_of(row, POINTS) == want, row
    assert float(row["total"]) == sum(want.values())
    parts = {part.split(":")[0]: part for part in row["message"].split("; ")}
    assert set(parts) == lost, row["message"]
    assert parts[question].startswith(f"{question}: 0/"), row["message"]
    assert phrase in parts[question], row["message"]


def test_unanswered_notebook_says_so(graded):
    row = graded["unanswered"]
    assert float(row["total"]) == 0, row
    assert "rate_and_distortion returned None" in row["message"], row["message"]
    assert "sweep_figures is not filled in" in row["message"], row["message"]
    assert len(graded) == 2 + len(NOTEBOOKS)
