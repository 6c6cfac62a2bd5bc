"""Homework 2 (the GAN, otter-grader): otter assign builds it offline, the student's copy holds
no solution, the solution earns full marks, and each usual mistake costs exactly its question.

The solution is run as a student runs it, both trainings included (q5, q7), on a clock ten times
slow: q5 and q7 are graded from the generators' weights that the training cells' outputs carry
(edu_gen.homework), within budgets of optimizer steps, so typed figures earn nothing."""
import csv
import re
from functools import reduce

import nbformat
import pytest

from edu_gen.gan import DCGANGenerator, MLPGenerator
from edu_gen.homework import decode, encode
from scripts.grade import ROOT, autograder_dir, find_autograder, grade_folder, questions
from scripts.make_assignment import homework_colab_cell, public_tests
from tests.otter_helpers import (SLOW_CLOCK, assert_full_marks, assert_grading_image_complete,
                                 assert_lost, edit, emptied, execute, kept_text, otter_assign,
                                 printed_json, solution_lines, with_kept)

MASTER = ROOT / "homework" / "hw2_gan" / "hw2_gan.ipynb"
POINTS = {"q1": 2.0, "q2": 2.0, "q3": 2.0, "q4": 2.0, "q5": 1.0, "q7": 1.0}   # and q6, 1 point by hand
FD_MAX, RECALL_MIN = 330, 0.2   # q7's bar
RING, DCGAN = 'ring_weights = keep_weights("q5"', 'dcgan_weights = keep_weights("q7"'   # the training cells
BUDGETS = {"q5": 3000, "q7": 1000}   # steps of each network
FUNCTIONS = ("optimal_discriminator", "gan_value", "d_loss", "g_loss", "gradient_penalty",
             "d_step", "g_step")


def untrained(question, generator):
    return lambda nb: with_kept(nb, question, encode(question, {"generator": generator}, g_steps=700, d_steps=700))


def over_budget(question, generator):
    def change(nb):
        generator.load_state_dict(decode(kept_text(nb, question))["models"]["generator"]["state"])
        steps = BUDGETS[question] + 1
        return with_kept(nb, question, encode(question, {"generator": generator}, g_steps=steps, d_steps=steps))
    return change


def pasted(cell, figures):   # a training cell emptied, the reference figures typed in
    return lambda nb: emptied(nb, cell, figures)


RING_G = lambda: MLPGenerator(latent_dim=2, out_shape=(2,), hidden=256, layers=3)
DCGAN_G = lambda: DCGANGenerator(latent_dim=64, ngf=16)

# Notebooks with mistakes in different questions: student -> (edits (old, new) or functions of the
# notebook, {question that loses all its points: a phrase its CSV message must contain}).
PLANTED = {
    # the steps call the student's losses of q2, one of them wrong: q4 keeps its points
    "isolated": ([("loss = F.softplus(-discriminator(real)).mean() + F.softplus(discriminator(fake)).mean()",
                   "loss = d_loss(discriminator(real), discriminator(fake))"),
                  ("loss = F.softplus(-discriminator(generator(z))).mean()",
                   "loss = g_loss(discriminator(generator(z)))"),
                  ("    return F.softplus(-fake_logits).mean()", "    return -F.softplus(fake_logits).mean()")],
                 {"q2": "g_loss is the minimax"}),
    "logs": ([("return torch.xlogy(p_data, d).sum() + torch.xlogy(p_g, 1 - d).sum()",
               "return (p_data * torch.log(d)).sum() + (p_g * torch.log(1 - d)).sum()"),
              ("return F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()",
               "return -(torch.log(torch.sigmoid(real_logits)).mean() + torch.log(1 - torch.sigmoid(fake_logits)).mean())"),
              ("alpha = torch.rand(", "alpha = torch.randn("),
              ("fake = generator(z).detach()", "fake = generator(z)"),
              untrained("q5", RING_G()), untrained("q7", DCGAN_G())],
             {"q1": "torch.xlogy", "q2": "inf or NaN for logits like +-100", "q3": "not from a normal with torch.randn",
              "q4": "detach the fakes", "q5": "of 8 modes (mode collapse)", "q7": "(mode collapse)"}),
    "batch": ([("return F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()",
                "return F.binary_cross_entropy(torch.sigmoid(real_logits), torch.ones_like(real_logits))"
                " + F.binary_cross_entropy(torch.sigmoid(fake_logits), torch.zeros_like(fake_logits))"),
               ("alpha = torch.rand((len(real),) + (1,) * (real.dim() - 1),", "alpha = torch.rand((1,) * real.dim(),"),
               ("    discriminator.requires_grad_(False)\n", ""),
               pasted(RING, 'ring_figures = {"modes": 8, "high_quality": 0.908, "seconds": 44.7}'),
               over_budget("q7", DCGAN_G())],
              {"q2": "clamps the log at -100", "q3": "draw one alpha per example", "q4": "freeze it",
               "q5": "holds no trained weights for q5", "q7": "the budget is 1,000 steps"}),
    "points": ([("points = (alpha * real + (1 - alpha) * fake).requires_grad_(True)",
                 "points = (real + 0 * alpha).requires_grad_(True)"),
                ("loss = F.softplus(-discriminator(generator(z))).mean()",
                 "loss = -F.softplus(discriminator(generator(z))).mean()"),
                over_budget("q5", RING_G()),
                pasted(DCGAN, 'dcgan_figures = {"fd": 254.2, "recall": 0.45, "precision": 0.85, "seconds": 21.6}')],
               {"q3": "called on the real examples themselves", "q4": "minimax", "q5": "the budget is 3,000 steps",
                "q7": "holds no trained weights for q7"}),
    "graph": ([("create_graph=True", "create_graph=False"),
               ("    d_opt.zero_grad()\n    loss.backward()\n    d_opt.step()\n",
                "    loss.backward()\n    d_opt.step()\n    d_opt.zero_grad()\n")],
              {"q3": "create_graph=True", "q4": "(not after the step)"}),
}


def planted(nb, changes):
    return reduce(lambda nb, change: change(nb) if callable(change) else edit(nb, *change), changes, nb)


@pytest.fixture(scope="module")
def assigned(tmp_path_factory):
    return otter_assign(MASTER, tmp_path_factory.mktemp("hw2_gan"))


@pytest.fixture(scope="module")
def solved(assigned):
    """The solution run as a student runs it, q5's and q7's trainings included, on a slow clock."""
    out = assigned / "solved.ipynb"
    execute(assigned / "autograder" / "hw2_gan.ipynb", out, before=(RING, SLOW_CLOCK))
    return nbformat.read(out, as_version=4)


@pytest.fixture(scope="module")
def graded(assigned, solved, tmp_path_factory):
    """Grade, in one run, the solution, every planted mistake and the unanswered notebook."""
    subs = tmp_path_factory.mktemp("submissions")
    nbformat.write(solved, subs / "solution.ipynb")
    for student, (changes, _) in PLANTED.items():
        nbformat.write(planted(solved, changes), subs / f"{student}.ipynb")
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
    # the prompts may name a call (requires_grad_), and the Colab cell (the first) has a try:
    code = "\n".join(c.source for c in nbformat.reads(student, as_version=4).cells[1:]
                     if c.cell_type == "code" and "otter.Notebook(" not in c.source)
    lines = solution_lines(MASTER)
    assert len(lines) >= 25
    for line in lines:
        assert line not in code, line
    # the hidden tests stay in the autograder only, and so does the written answer
    autograder = (assigned / "autograder" / "hw2_gan.ipynb").read_text()
    for hidden in ("test_value_identity", "test_losses_extreme_logits",
                   "test_gradient_penalty_uniform", "test_steps_match_reference",
                   "about 150 times smaller"):
        assert hidden not in student and hidden in autograder, hidden
    # the student still gets each function's signature
    for name in FUNCTIONS:
        assert re.search(rf"def {name}\(", student), name


def test_training_cells_keep_their_weights_and_are_not_run_by_the_grader(assigned):
    cells = nbformat.read(assigned / "student" / "hw2_gan.ipynb", as_version=4).cells
    for text in (RING, DCGAN):
        training = [c for c in cells if c.cell_type == "code" and text in c.source]
        assert len(training) == 1 and "otter_ignore" in training[0].metadata.get("tags", [])
        assert "d_steps=optimizer_steps(d_opt)" in training[0].source
    assert not any("ring_figures" in c.source or "dcgan_figures" in c.source for c in cells)
    assert any("Question 7 (1 point)" in c.source for c in cells)
    # the written question: an answer cell for the student, graded by hand (no test file)
    assert any("Question 6 (1 point, graded by hand)" in c.source for c in cells)
    assert any(c.cell_type == "markdown" and "Type your answer here" in c.source for c in cells)


def test_the_solution_trains_to_the_bars_within_the_budgets_however_slow_the_clock(solved):
    ring, dcgan = printed_json(solved, RING), printed_json(solved, DCGAN)
    assert ring["modes"] >= 7 and ring["high_quality"] >= 0.5, ring
    assert dcgan["fd"] < FD_MAX and dcgan["recall"] >= RECALL_MIN, dcgan
    for figures, budget in ((ring, BUDGETS["q5"]), (dcgan, BUDGETS["q7"])):
        assert figures["g_steps"] <= budget and figures["d_steps"] <= budget, figures
        assert figures["seconds"] > 120, figures   # the clock ran slow: more than the old limit of 2 minutes


def test_colab_cell_fetches_the_public_tests():
    cells = nbformat.read(MASTER, as_version=4).cells
    first_code = next(c for c in cells if c.cell_type == "code").source
    assert first_code == homework_colab_cell("hw2_gan", sorted(POINTS)), "run `python scripts/make_assignment.py --homework`"


def test_committed_public_tests_are_the_student_copys(assigned):
    tests = public_tests(assigned / "student" / "hw2_gan.ipynb")
    folder = ROOT / "homework" / "hw2_gan" / "tests"
    assert {p.stem: p.read_text() for p in folder.glob("*.py")} == tests, "run `make assignments`"
    assert sorted(tests) == sorted(POINTS) and all("hidden=True" not in t for t in tests.values())


def test_dcgan_bar_is_stated():
    """The question states the bar its test applies."""
    cells = nbformat.read(MASTER, as_version=4).cells
    prompt = next(c.source for c in cells if "Question 7 (1 point)" in c.source)
    assert f"below {FD_MAX:g}**" in prompt and f"recall of at least {RECALL_MIN:g}**" in prompt
    assert "not of Inception" in prompt and "at most 1,000 steps of each network" in prompt
    test = next(c.source for c in cells if "def test_dcgan_trained" in c.source)
    assert f"assert fd < {FD_MAX:g}, " in test and f"assert recall >= {RECALL_MIN:g}, " in test
    assert f"assert steps <= {BUDGETS['q7']}, " in test


def test_grade_chooses_the_homework():
    assert autograder_dir() == ROOT / "_build" / "homework" / "hw1_vae" / "autograder"
    assert autograder_dir("hw2_gan") == ROOT / "_build" / "homework" / "hw2_gan" / "autograder"
    with pytest.raises(ValueError, match="unknown homework"):
        autograder_dir("hw3")


def test_solution_gets_full_marks(graded):
    assert_full_marks(graded["solution"], POINTS)


@pytest.mark.parametrize("student", PLANTED)
def test_planted_mistake_costs_its_question(graded, student):
    assert_lost(graded[student], POINTS, PLANTED[student][1])


def test_unanswered_notebook_says_so(graded):
    row = graded["unanswered"]
    assert float(row["total"]) == 0, row
    for name in ("optimal_discriminator", "d_loss", "gradient_penalty", "d_step"):
        assert f"{name} returned None" in row["message"], row["message"]
    assert "holds no trained weights for q5" in row["message"], row["message"]
    assert "holds no trained weights for q7" in row["message"], row["message"]
    assert len(graded) == 2 + len(PLANTED)


def test_grading_image_installs_what_the_tests_import(assigned):
    assert_grading_image_complete(assigned, "hw2_gan")
