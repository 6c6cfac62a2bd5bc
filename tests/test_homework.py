"""Homework 1 (the VAE, otter-grader): otter assign builds it offline, the student's copy holds
no solution, the solution earns full marks, and each usual mistake costs exactly its question.
The training of q7 is not rerun here: its cell is tagged otter_ignore, and q7 grades the figures
that the student copied into ``vae_figures`` (q8 is read by hand)."""
import csv
import json
import re

import nbformat
import pytest

from tests.otter_helpers import assert_full_marks, edit, otter_assign, points_of, solution_lines
from scripts.grade import ROOT, find_autograder, grade_folder, questions

MASTER = ROOT / "homework" / "hw1_vae" / "hw1_vae.ipynb"
POINTS = {"q1": 2.0, "q2": 2.0, "q3": 3.0, "q4": 2.0, "q5": 2.0, "q6": 2.0, "q7": 2.0}  # and q8, 1 by hand
# solution lines that q6's public test names in its hints ("call optimizer.zero_grad() ...")
HINTED = {"optimizer.zero_grad()", "loss.backward()", "optimizer.step()"}
FUNCTIONS = ("reparameterize", "gaussian_kl", "negative_elbo", "iwae_bound", "vae_step")

# (student, text in the solution, what replaces it, the question that must lose all its points,
#  a phrase the CSV message must contain)
PLANTED = [
    ("z_is_eps", "return mu + torch.exp(0.5 * logvar) * eps", "return eps", "q1", "eps"),
    ("kl_sign", "return -0.5 * torch.sum(", "return 0.5 * torch.sum(", "q2", "wrong sign"),
    ("recon_mean", 'reduction="none").sum(1)', 'reduction="none").mean(1)', "q3", "averaged"),
    ("iwae_mean", "return torch.logsumexp(log_w, dim=0) - math.log(log_w.shape[0])",
     "return log_w.mean(0)", "q4", "averaged"),
    ("renamed", "def iwae_bound(log_w):", "def iwae(log_w):", "q4", "iwae_bound is not defined"),
    ("encode_std", "        return mu, logvar\n", "        return mu, torch.exp(0.5 * logvar)\n", "q5",
     "logvar is never negative"),
    ("no_zero_grad", "    optimizer.zero_grad()\n", "", "q6", "call optimizer.zero_grad()"),
    ("loss_summed", "loss = negative_elbo(model.decode_logits(z), x, mu, logvar).mean()",
     "loss = negative_elbo(model.decode_logits(z), x, mu, logvar).sum()", "q6",
     "summed over the batch"),
    ("no_backward", "    loss.backward()\n", "", "q6", "call loss.backward()"),
    ("logvar_as_std", "z = reparameterize(mu, logvar, torch.randn_like(mu))",
     "z = mu + logvar * torch.randn_like(mu)", "q6", "z from reparameterize"),
    ("missed_target", 'vae_figures = {"neg_elbo": ', 'vae_figures = {"neg_elbo": 113.14, "was": ', "q7",
     "train longer"),
]


@pytest.fixture(scope="module")
def assigned(tmp_path_factory):
    return otter_assign(MASTER, tmp_path_factory.mktemp("hw1_vae"))


@pytest.fixture(scope="module")
def graded(assigned, tmp_path_factory):
    """Grade the solution, every planted mistake, a notebook without q1 and an invalid file."""
    solution = assigned / "autograder" / "hw1_vae.ipynb"
    subs = tmp_path_factory.mktemp("submissions")
    nbformat.write(nbformat.read(solution, as_version=4), subs / "solution.ipynb")
    for student, old, new, _, _ in PLANTED:
        nbformat.write(edit(solution, old, new), subs / f"{student}.ipynb")
    nb = nbformat.read(solution, as_version=4)
    nb.cells = [c for c in nb.cells if "def reparameterize(" not in c.source]
    nbformat.write(nb, subs / "no_q1.ipynb")
    student = nbformat.read(assigned / "student" / "hw1_vae.ipynb", as_version=4)
    nbformat.write(student, subs / "unanswered.ipynb")
    (subs / "broken.ipynb").write_text('{"cells": [ this is not JSON')
    out = subs / "grades.csv"
    grade_folder(subs, out, autograder=find_autograder(assigned / "autograder"), timeout=300, jobs=2)
    with open(out, newline="") as f:
        rows = {row["student"]: row for row in csv.DictReader(f)}
    return rows


def test_autograder_zip_has_every_question(assigned):
    assert questions(find_autograder(assigned / "autograder")) == POINTS


def test_student_notebook_has_no_solution(assigned):
    student = (assigned / "student" / "hw1_vae.ipynb").read_text()
    code = "\n".join(c.source for c in nbformat.reads(student, as_version=4).cells
                     if c.cell_type == "code")
    lines = solution_lines(MASTER)
    assert len(lines) >= 25
    for line in lines:
        assert line not in code, line
        if line not in HINTED:   # the calls that q6's prompt and hints name may be in the file
            assert line not in student and json.dumps(line)[1:-1] not in student, line
    # the hidden tests stay in the autograder only, and so does the written answer
    assert "test_iwae_stable" not in student and "test_reparameterize_gradients" not in student
    autograder = (assigned / "autograder" / "hw1_vae.ipynb").read_text()
    assert "test_iwae_stable" in autograder
    for hidden in ("test_vae_matches_reference", "test_vae_step_sgd", "test_vae_figures_are_measured",
                   "26.52 / ln 2"):
        assert hidden not in student and hidden in autograder, hidden
    # the student still gets each function's signature, and the class's
    for name in FUNCTIONS:
        assert re.search(rf"def {name}\(", student), name
    for name in ("__init__(self, latent_dim=20, hidden=400)", "encode(self, x)", "decode_logits(self, z)"):
        assert f"def {name}:" in student, name
    assert "class VAE(nn.Module):" in student


def test_training_cell_is_not_run_by_the_grader(assigned):
    cells = nbformat.read(assigned / "student" / "hw1_vae.ipynb", as_version=4).cells
    training = [c for c in cells if c.cell_type == "code" and "load_mnist(" in c.source]
    assert len(training) == 1 and "otter_ignore" in training[0].metadata.get("tags", [])
    assert "evaluate(" not in training[0].source   # the check against edu_gen is the solution's
    assert "vae_figures = ...\n" in "".join(c.source for c in cells)
    # the written question: an answer cell for the student, graded by hand (no test file)
    assert any("Question 8 (1 point, graded by hand)" in c.source for c in cells)
    assert any(c.cell_type == "markdown" and "Type your answer here" in c.source for c in cells)


def test_master_figures_meet_the_bar():
    """The figures in the master are those its training cell printed (see book/instructors.md)."""
    cells = nbformat.read(MASTER, as_version=4).cells
    line = next(l for c in cells for l in c.source.splitlines() if l.startswith("vae_figures = "))
    figures = json.loads(line.split("=", 1)[1].split("#")[0])
    assert 100 <= figures["neg_elbo"] <= 110 and 0 < figures["kl"] < figures["neg_elbo"]
    assert figures["seconds"] <= 90


def test_colab_install_is_guarded():
    cells = nbformat.read(MASTER, as_version=4).cells
    first_code = next(c for c in cells if c.cell_type == "code").source
    assert 'if "google.colab" in sys.modules:\n    %pip install --quiet otter-grader==7.0.0' in first_code
    # Question 7 trains on edu_gen's embedded digits: Colab installs edu_gen from the repository
    assert '%pip install --quiet otter-grader==7.0.0 "edu-gen @ git+' in first_code


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


def test_missing_question_gets_a_row(graded):
    row = graded["no_q1"]
    assert points_of(row, POINTS) == dict(POINTS, q1=0.0)
    assert "reparameterize is not defined" in row["message"]


def test_unanswered_notebook_says_so(graded):
    row = graded["unanswered"]
    assert float(row["total"]) == 0
    for name in FUNCTIONS:
        assert f"{name} returned None" in row["message"], row["message"]
    assert "VAE has no self.encoder or self.decoder: write __init__" in row["message"], row["message"]
    assert "vae_figures is not filled in" in row["message"], row["message"]


def test_invalid_notebook_gets_a_row_with_a_message(graded):
    row = graded["broken"]
    assert "not a valid notebook" in row["message"]
    assert row["total"] == "" and all(row[q] == "" for q in POINTS)
    assert len(graded) == 3 + len(PLANTED) + 1  # and the rest were graded


# a notebook whose answer loops forever or kills its kernel loses that question only:
# student: (text in the solution, what replaces it, the question, the CSV message)
CRASHES = {
    "loops": ("    recon = F.binary", "    while True:\n        pass\n    recon = F.binary", "q3",
              'q3: 0/3 (timed out after 60 s in the cell `grader.check("q3")`: an infinite loop?)'),
    "kills": ("def gaussian_kl(", "import os; os._exit(1)\ndef gaussian_kl(", "q2",
              "q2: 0/2 (the kernel died in the cell `import os; os._exit(1)` "
              "(os._exit, a segfault, out of memory?))"),
}


@pytest.fixture(scope="module")
def crashed(assigned, tmp_path_factory):
    """Grade, in one run, the solution, a loop in q3's function and a kernel killed in q2's cell."""
    solution = assigned / "autograder" / "hw1_vae.ipynb"
    subs = tmp_path_factory.mktemp("crashes")
    nbformat.write(nbformat.read(solution, as_version=4), subs / "solution.ipynb")
    for student, (old, new, _, _) in CRASHES.items():
        nbformat.write(edit(solution, old, new), subs / f"{student}.ipynb")
    out = subs / "grades.csv"
    grade_folder(subs, out, autograder=find_autograder(assigned / "autograder"), timeout=60, jobs=2)
    with open(out, newline="") as f:
        return {row["student"]: row for row in csv.DictReader(f)}


def test_crash_leaves_the_other_students_graded(crashed):
    assert sorted(crashed) == ["kills", "loops", "solution"]
    assert_full_marks(crashed["solution"], POINTS)


@pytest.mark.parametrize("student", CRASHES)
def test_crash_costs_its_question_only(crashed, student):
    _, _, question, message = CRASHES[student]
    row = crashed[student]
    want = dict(POINTS, **{question: 0.0})
    assert points_of(row, POINTS) == want, row
    assert float(row["total"]) == sum(want.values())
    assert row["message"] == message
