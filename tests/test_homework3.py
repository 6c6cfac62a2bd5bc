"""Homework 3 (the open project, a beta-VAE rate-distortion curve, otter-grader): otter assign
builds it offline, the student's copy holds no solution and no rubric, the solution earns full
autograded marks, and each usual mistake costs exactly its question.

The solution is run as a student runs it, the sweep of q2 included: q2 and q3 are graded from the
six models that the sweep cell's output carries (edu_gen.homework), measured by edu_gen, within a
budget of 15 epochs per model. Questions 4 and 5 are graded by hand (rubric in the master's solution)."""
import csv
import re
from functools import reduce

import nbformat
import pytest

from edu_gen.homework import decode, encode
from edu_gen.vae import VAE
from scripts.grade import ROOT, autograder_dir, find_autograder, grade_folder, questions
from scripts.make_assignment import homework_colab_cell, public_tests
from tests.otter_helpers import (assert_full_marks, assert_grading_image_complete, assert_lost, edit,
                                 emptied, execute, kept_text, otter_assign, printed_json, solution_lines,
                                 with_kept)

NAME = "hw3_rate_distortion"
MASTER = ROOT / "homework" / NAME / f"{NAME}.ipynb"
POINTS = {"q1": 3.0, "q2": 2.0, "q3": 1.0}   # and q4 (3 points) and q5 (6 points) by hand
SWEEP = 'sweep_weights = keep_weights("q2"'   # text of the sweep cell
BETAS = ["0.25", "0.5", "1.0", "2.0", "4.0", "8.0"]


def rekept(change):
    """A function of a notebook that keeps its sweep's models again, as ``change(states, epochs)``
    returns them: ({beta name: state dict}, {beta name: epochs})."""
    def apply(nb):
        kept = decode(kept_text(nb, "q2"))
        states, epochs = change({k: v["state"] for k, v in kept["models"].items()}, kept["counts"]["epochs"])
        models = {}
        for name, state in states.items():
            models[name] = VAE(hidden=(256,), latent_dim=10)
            models[name].load_state_dict(state)
        return with_kept(nb, "q2", encode("q2", models, epochs=epochs))
    return apply


reversed_betas = rekept(lambda s, e: ({b: s[r] for b, r in zip(BETAS, BETAS[::-1])}, e))
one_model = rekept(lambda s, e: (dict.fromkeys(BETAS, s["1.0"]), e))
over_budget = rekept(lambda s, e: (s, dict(e, **{"2.0": 16})))


def pasted(nb):   # the sweep cell emptied, the reference figures typed in
    return emptied(nb, SWEEP, 'sweep_figures = {"beta": [0.25, 0.5, 1.0, 2.0, 4.0, 8.0], "rate": [30.63, 22.25, 16.16, '
                              '10.42, 6.26, 2.77], "distortion": [110.86, 114.62, 119.02, 129.98, 144.77, 169.02]}')


# Notebooks with mistakes: student -> (edits (old, new) or functions of the notebook, {question that
# loses all its points: a phrase its CSV message must contain}). q2 and q3 both read the kept models,
# so a sweep kept wrong costs both.
PLANTED = {
    "pixels_reversed": ([('reduction="none").sum(1)', 'reduction="none").mean(1)'), reversed_betas],
                        {"q1": "averaged over the pixels", "q2": "the rate rises",
                         "q3": "choose the beta with the lowest FD"}),
    "batch_fd": ([('return {"rate": rate.mean().item()', 'return {"rate": rate.sum().item()'),
                  ("best_beta_for_samples = 4.0", "best_beta_for_samples = 1.0")],
                 {"q1": "summed over the batch", "q3": "choose the beta with the lowest FD"}),
    "mean_code_one_model": ([("z = mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)", "z = mu"), one_model],
                            {"q1": "posterior mean", "q2": "above the reference curve", "q3": "an end of the sweep"}),
    "evaluate_over_budget": ([("def rate_and_distortion(model, images, seed=0):\n",
                               "from edu_gen.vae_eval import evaluate\n\n\ndef rate_and_distortion(model, images, seed=0):\n"
                               "    return evaluate(model, images, seed=seed, batch_size=len(images))\n\n\n"
                               "def unused(model, images, seed=0):\n"), over_budget],
                             {"q1": "calls edu_gen's evaluate", "q2": "the budget is EPOCHS = 15",
                              "q3": "the budget is EPOCHS = 15"}),
    "pasted": ([pasted], {"q2": "holds no trained weights for q2", "q3": "holds no trained weights for q2"}),
}


def planted(nb, changes):
    return reduce(lambda nb, change: change(nb) if callable(change) else edit(nb, *change), changes, nb)


@pytest.fixture(scope="module")
def assigned(tmp_path_factory):
    return otter_assign(MASTER, tmp_path_factory.mktemp(NAME))


@pytest.fixture(scope="module")
def solved(assigned):
    """The solution run as a student runs it, the sweep included."""
    out = assigned / "solved.ipynb"
    execute(assigned / "autograder" / f"{NAME}.ipynb", out)
    return nbformat.read(out, as_version=4)


@pytest.fixture(scope="module")
def graded(assigned, solved, tmp_path_factory):
    """Grade, in one run, the solution, every planted mistake and the unanswered notebook."""
    subs = tmp_path_factory.mktemp("submissions")
    nbformat.write(solved, subs / "solution.ipynb")
    for student, (changes, _) in PLANTED.items():
        nbformat.write(planted(solved, changes), subs / f"{student}.ipynb")
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


def test_sweep_cell_keeps_its_models_and_is_not_run_by_the_grader(assigned):
    cells = nbformat.read(assigned / "student" / f"{NAME}.ipynb", as_version=4).cells
    training = [c for c in cells if c.cell_type == "code" and SWEEP in c.source]
    assert len(training) == 1 and "otter_ignore" in training[0].metadata.get("tags", [])
    # the student keeps the settings, the check against evaluate and the printed line
    for kept in ("SIZES = dict(hidden=(256,), latent_dim=10)", "EPOCHS, LR = 15, 2e-3",
                 "reference = evaluate(model, x_test)", "print(json.dumps(dict(sweep_figures,"):
        assert kept in training[0].source, kept
    lines = [l for c in cells for l in c.source.splitlines()]
    assert "best_beta_for_samples = ..." in lines
    # the hand-graded questions: a plot cell (not run by the grader) and an answer cell, no test file
    plot = [c for c in cells if c.cell_type == "code" and "plt.subplots" in c.source]
    assert len(plot) == 1 and "otter_ignore" in plot[0].metadata.get("tags", [])
    assert any("Question 4 (3 points, graded by hand)" in c.source for c in cells)
    assert any("Question 5 (6 points, graded by hand)" in c.source for c in cells)
    assert any(c.cell_type == "markdown" and "Type your answer here" in c.source for c in cells)


def test_the_solution_sweeps_every_beta_within_the_budget(solved):
    figures = printed_json(solved, SWEEP)
    assert figures["beta"] == [0.25, 0.5, 1.0, 2.0, 4.0, 8.0]
    kept = decode(kept_text(solved, "q2"))
    assert sorted(kept["models"], key=float) == BETAS and set(kept["counts"]["epochs"].values()) == {15}
    # the master's answer to q3 is the beta of the lowest FD of the sweep
    best = next(l for c in nbformat.read(MASTER, as_version=4).cells for l in c.source.splitlines()
                if l.startswith("best_beta_for_samples = "))
    fd = figures["fd"]
    assert float(best.split("=")[1].split("#")[0]) == figures["beta"][fd.index(min(fd))]


def test_hidden_reference_curve_is_the_measured_one():
    """q2's hidden test holds the range of D + beta R that homework/reference_figures.csv measured."""
    with open(ROOT / "homework" / "reference_figures.csv", newline="") as f:
        rows = [r for r in csv.DictReader(l for l in f if not l.startswith("#"))
                if r["homework"] == NAME and r["figure"] == "objective"]
    measured = {}
    for r in rows:
        measured.setdefault(float(r["question"].split("=")[1]), []).append(float(r["value"]))
    assert len(measured) == 6 and all(len(v) == 3 for v in measured.values()), measured
    want = {b: (round(min(v), 1), round(max(v), 1)) for b, v in sorted(measured.items())}
    cells = nbformat.read(MASTER, as_version=4).cells
    line = next(l.strip() for c in cells for l in c.source.splitlines() if l.strip().startswith("reference = {0.25:"))
    assert eval(line.split("=", 1)[1]) == want, (line, want)


def test_colab_cell_fetches_the_public_tests():
    cells = nbformat.read(MASTER, as_version=4).cells
    first_code = next(c for c in cells if c.cell_type == "code").source
    assert first_code == homework_colab_cell(NAME, sorted(POINTS)), "run `python scripts/make_assignment.py --homework`"


def test_committed_public_tests_are_the_student_copys(assigned):
    tests = public_tests(assigned / "student" / f"{NAME}.ipynb")
    folder = ROOT / "homework" / NAME / "tests"
    assert {p.stem: p.read_text() for p in folder.glob("*.py")} == tests, "run `make assignments`"
    assert sorted(tests) == sorted(POINTS) and all("hidden=True" not in t for t in tests.values())


def test_grading_image_installs_what_the_tests_import(assigned):
    assert_grading_image_complete(assigned, NAME)


def test_grade_knows_the_homework():
    assert autograder_dir(NAME) == ROOT / "_build" / "homework" / NAME / "autograder"
    assert NAME in (ROOT / "Makefile").read_text()


def test_solution_gets_full_marks(graded):
    assert_full_marks(graded["solution"], POINTS)


@pytest.mark.parametrize("student", PLANTED)
def test_planted_mistake_costs_its_question(graded, student):
    assert_lost(graded[student], POINTS, PLANTED[student][1])


def test_unanswered_notebook_says_so(graded):
    row = graded["unanswered"]
    assert float(row["total"]) == 0, row
    assert "rate_and_distortion returned None" in row["message"], row["message"]
    assert "holds no trained weights for q2" in row["message"], row["message"]
    assert len(graded) == 2 + len(PLANTED)
