"""Homework 2 (the GAN, otter-grader): otter assign builds it offline, the student's copy holds
no solution, the solution earns full marks, and each usual mistake costs exactly its question.
The training of q5 and q7 is not rerun here: their cells are tagged otter_ignore, and q5 and q7
grade the figures that the student copied into ``ring_figures`` and ``dcgan_figures``."""
import csv
import json
import re

import nbformat
import pytest

from tests.otter_helpers import assert_full_marks, edit, otter_assign, points_of, solution_lines
from scripts.grade import ROOT, autograder_dir, find_autograder, grade_folder, questions

MASTER = ROOT / "homework" / "hw2_gan" / "hw2_gan.ipynb"
POINTS = {"q1": 2.0, "q2": 2.0, "q3": 2.0, "q4": 2.0, "q5": 1.0, "q7": 1.0}   # and q6, 1 point by hand
FD_MAX, RECALL_MIN = 330, 0.2   # q7's bar (book/instructors.md: the reference's figures)
FUNCTIONS = ("optimal_discriminator", "gan_value", "d_loss", "g_loss", "gradient_penalty",
             "d_step", "g_step")

# (student, text in the solution, what replaces it, the question that must lose all its points,
#  a phrase the CSV message must contain)
PLANTED = [
    ("value_nan", "return torch.xlogy(p_data, d).sum() + torch.xlogy(p_g, 1 - d).sum()",
     "return (p_data * torch.log(d)).sum() + (p_g * torch.log(1 - d)).sum()", "q1", "torch.xlogy"),
    ("d_loss_sigmoid", "return F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()",
     "return -(torch.log(torch.sigmoid(real_logits)).mean()"
     " + torch.log(1 - torch.sigmoid(fake_logits)).mean())", "q2",
     "inf or NaN for logits like +-100"),
    ("d_loss_bce_sigmoid", "return F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()",
     "return F.binary_cross_entropy(torch.sigmoid(real_logits), torch.ones_like(real_logits))"
     " + F.binary_cross_entropy(torch.sigmoid(fake_logits), torch.zeros_like(fake_logits))", "q2",
     "clamps the log at -100"),
    ("alpha_normal", "alpha = torch.rand(", "alpha = torch.randn(", "q3",
     "not from a normal with torch.randn"),
    ("alpha_per_batch", "alpha = torch.rand((len(real),) + (1,) * (real.dim() - 1),",
     "alpha = torch.rand((1,) * real.dim(),", "q3", "draw one alpha per example"),
    ("not_detached", "fake = generator(z).detach()", "fake = generator(z)", "q4",
     "detach the fakes"),
    ("d_not_frozen", "    discriminator.requires_grad_(False)\n", "", "q4", "freeze it"),
    ("minimax_g", "loss = F.softplus(-discriminator(generator(z))).mean()",
     "loss = -F.softplus(discriminator(generator(z))).mean()", "q4", "minimax"),
    ("collapsed", 'ring_figures = {"modes": ', 'ring_figures = {"modes": 3, "was": ', "q5",
     "mode collapse"),
    # the figures of a collapsed generator (an MLP GAN scores so: book/compare/compare_results.csv)
    ("dcgan_collapsed", "dcgan_figures = {",
     'dcgan_figures = {"fd": 550.0, "recall": 0.0, "precision": 1.0, "seconds": 15.0}  # was {',
     "q7", "mode collapse"),
]


@pytest.fixture(scope="module")
def assigned(tmp_path_factory):
    return otter_assign(MASTER, tmp_path_factory.mktemp("hw2_gan"))


@pytest.fixture(scope="module")
def graded(assigned, tmp_path_factory):
    """Grade, in one run, the solution, every planted mistake and the unanswered notebook."""
    solution = assigned / "autograder" / "hw2_gan.ipynb"
    subs = tmp_path_factory.mktemp("submissions")
    nbformat.write(nbformat.read(solution, as_version=4), subs / "solution.ipynb")
    for student, old, new, _, _ in PLANTED:
        nbformat.write(edit(solution, old, new), subs / f"{student}.ipynb")
    student = nbformat.read(assigned / "student" / "hw2_gan.ipynb", as_version=4)
    nbformat.write(student, subs / "unanswered.ipynb")
    out = subs / "grades.csv"
    grade_folder(subs, out, autograder=find_autograder(assigned / "autograder"), timeout=300, jobs=2)
    with open(out, newline="") as f:
        return {row["student"]: row for row in csv.DictReader(f)}


def test_autograder_zip_has_every_question(assigned):
    assert questions(find_autograder(assigned / "autograder")) == POINTS


def test_student_notebook_has_no_solution(assigned):
    student = (assigned / "student" / "hw2_gan.ipynb").read_text()
    code = "\n".join(c.source for c in nbformat.reads(student, as_version=4).cells
                     if c.cell_type == "code")  # the prompts may name a call, e.g. requires_grad_
    lines = solution_lines(MASTER)
    assert len(lines) >= 25
    for line in lines:
        assert line not in code, line
    # the hidden tests stay in the autograder only, and so does the written answer
    autograder = (assigned / "autograder" / "hw2_gan.ipynb").read_text()
    for hidden in ("test_value_identity", "test_losses_extreme_logits",
                   "test_gradient_penalty_uniform", "test_steps_match_reference",
                   "test_ring_figures_are_measured", "test_dcgan_figures_are_measured",
                   "about 150 times smaller"):
        assert hidden not in student and hidden in autograder, hidden
    # the student still gets each function's signature
    for name in FUNCTIONS:
        assert re.search(rf"def {name}\(", student), name


def test_training_cell_is_not_run_by_the_grader(assigned):
    cells = nbformat.read(assigned / "student" / "hw2_gan.ipynb", as_version=4).cells
    training = [c for c in cells if c.cell_type == "code" and "evaluate_generator(" in c.source]
    assert len(training) == 1 and "otter_ignore" in training[0].metadata.get("tags", [])
    assert "ring_figures = ...\n" in "".join(c.source for c in cells)
    training = [c for c in cells if c.cell_type == "code" and "evaluate_samples(" in c.source]
    assert len(training) == 1 and "otter_ignore" in training[0].metadata.get("tags", [])
    assert "dcgan_figures = ...\n" in "".join(c.source for c in cells)
    assert any("Question 7 (1 point)" in c.source for c in cells)
    # the written question: an answer cell for the student, graded by hand (no test file)
    assert any("Question 6 (1 point, graded by hand)" in c.source for c in cells)
    assert any(c.cell_type == "markdown" and "Type your answer here" in c.source for c in cells)


def test_colab_install_is_guarded():
    cells = nbformat.read(MASTER, as_version=4).cells
    first_code = next(c for c in cells if c.cell_type == "code").source
    assert 'if "google.colab" in sys.modules:\n    %pip install --quiet otter-grader==7.0.0 ' \
           '"edu-gen @ git+' in first_code


def master_figures(name):
    cells = nbformat.read(MASTER, as_version=4).cells
    line = next(l for c in cells for l in c.source.splitlines() if l.startswith(f"{name} = "))
    return json.loads(line.split("=", 1)[1].split("#")[0])


def test_master_figures_meet_the_bar():
    """The figures in the master are those its training cells printed (see book/instructors.md)."""
    figures = master_figures("ring_figures")
    assert figures["modes"] >= 7 and figures["high_quality"] >= 0.5 and figures["seconds"] <= 120
    figures = master_figures("dcgan_figures")
    assert figures["fd"] < FD_MAX and figures["recall"] >= RECALL_MIN and 0 < figures["seconds"] <= 120
    # as printed: FD to 1 decimal, recall and precision shares of 1,000 digits to 3
    assert round(figures["fd"], 1) == figures["fd"]
    assert all(abs(figures[k] * 1000 - round(figures[k] * 1000)) < 1e-6 for k in ("recall", "precision"))


def test_dcgan_bar_is_stated():
    """The question states the bar its tests apply."""
    cells = nbformat.read(MASTER, as_version=4).cells
    prompt = next(c.source for c in cells if "Question 7 (1 point)" in c.source)
    assert f"below {FD_MAX:g}**" in prompt and f"recall of at least {RECALL_MIN:g}**" in prompt
    assert "not of Inception" in prompt
    tests = "".join(c.source for c in cells if "def test_dcgan_figures" in c.source)
    assert tests.count(f"assert fd < {FD_MAX:g}, ") == 2 and tests.count(f"assert recall >= {RECALL_MIN:g}, ") == 2


def test_grade_chooses_the_homework():
    assert autograder_dir() == ROOT / "_build" / "homework" / "hw1_vae" / "autograder"
    assert autograder_dir("hw2_gan") == ROOT / "_build" / "homework" / "hw2_gan" / "autograder"
    with pytest.raises(ValueError, match="unknown homework"):
        autograder_dir("hw3")


def test_solution_gets_full_marks(graded):
    assert_full_marks(graded["solution"], POINTS)


@pytest.mark.parametrize("student, old, new, question, phrase", PLANTED, ids=[p[0] for p in PLANTED])
def test_planted_mistake_costs_its_question(graded, student, old, new, question, phrase):
    row = graded[student]
    want = dict(POINTS, **{question: 0.0})
    assert points_of(row, POINTS) == want, row
    assert float(row["total"]) == sum(want.values())
    assert row["message"].startswith(f"{question}: 0/"), row["message"]
    assert phrase in row["message"], row["message"]


def test_unanswered_notebook_says_so(graded):
    row = graded["unanswered"]
    assert float(row["total"]) == 0, row
    for name in ("optimal_discriminator", "d_loss", "gradient_penalty", "d_step"):
        assert f"{name} returned None" in row["message"], row["message"]
    assert "ring_figures is not filled in" in row["message"], row["message"]
    assert "dcgan_figures is not filled in" in row["message"], row["message"]
    assert len(graded) == 2 + len(PLANTED)
