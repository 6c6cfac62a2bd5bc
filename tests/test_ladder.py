"""The validity ladder (edu_gen.ladder): every metric of edu_gen.metrics moves the way its
definition says on image sets of known quality, and the unpruned precision and density, the
definitions the remedy replaces, are shown to fail it."""
import pytest

from edu_gen.data import load_mnist
from edu_gen.ladder import BLUR, NOISE, NOT_DIGITS, climb

CEILING = "training digits"


@pytest.fixture(scope="module")
def ladder():
    train, _ = load_mnist("train", small=True)
    test, _ = load_mnist("test", small=True)
    return climb(train, test)


def along(ladder, kind, metric):
    levels = BLUR if kind == "blur" else NOISE
    return [ladder[CEILING][metric]] + [ladder[f"{kind} {level}"][metric] for level in levels]


@pytest.mark.parametrize("kind", ["blur", "noise"])
def test_fd_and_kid_rise_with_every_step_of_blur_and_noise(ladder, kind):
    fd, kid = along(ladder, kind, "fd"), along(ladder, kind, "kid")
    assert all(a < b for a, b in zip(fd, fd[1:])), fd
    # KID's standard error at 1,000 samples (about 6 to 10) hides the lightest step
    assert all(a < b for a, b in zip(kid[1:], kid[2:])), kid
    assert all(k > kid[0] + 2 * ladder[CEILING]["kid_se"] for k in kid[2:]), kid


@pytest.mark.parametrize("kind", ["blur", "noise"])
@pytest.mark.parametrize("metric", ["precision", "density"])
def test_precision_and_density_fall_with_blur_and_noise(ladder, kind, metric):
    values = along(ladder, kind, metric)
    steps = values[1:]            # a light blur can read as a slightly more typical digit
    assert all(a > b for a, b in zip(steps, steps[1:])), values
    assert steps[-1] < 0.1 * values[0], values


@pytest.mark.parametrize("name", NOT_DIGITS)
def test_what_is_not_a_digit_scores_as_none(ladder, name):
    row, ceiling = ladder[name], ladder[CEILING]
    assert row["precision"] <= 0.05 and row["density"] <= 0.05, row
    assert row["recall"] <= 0.05 and row["coverage"] <= 0.05, row
    assert row["fd"] > 50 * ceiling["fd"] and row["kid"] > 10 * ceiling["kid"], row


@pytest.mark.parametrize("name", NOT_DIGITS)
def test_the_unpruned_definitions_call_what_is_not_a_digit_real(ladder, name):
    """Why the remedy: without pruning, a few unusual real digits' balls hold the noise."""
    assert ladder[name]["precision_raw"] > 0.9 and ladder[name]["density_raw"] > 1, ladder[name]


def test_real_digits_score_as_real(ladder):
    row = ladder[CEILING]
    assert row["precision"] > 0.4 and 0.7 < row["density"] < 1.2, row
    assert row["recall"] > 0.8 and row["coverage"] > 0.9 and row["class_tv"] < 0.05, row
    itself = ladder["held-out digits (the reference)"]
    assert (itself["fd"], itself["recall"], itself["density"], itself["coverage"]) == \
        (pytest.approx(0, abs=1e-6), 1.0, 1.0, 1.0)


@pytest.mark.parametrize("name", ["5 digits x 200", "250 training digits x 4"])
def test_recall_and_coverage_fall_with_collapse_and_fd_rises(ladder, name):
    row, ceiling = ladder[name], ladder[CEILING]
    # exact copies: a sample's k-NN ball reaches a copy of itself, radius 0, so recall is 0
    assert row["recall"] < 0.5 * ceiling["recall"] and row["coverage"] < ceiling["coverage"] - 0.2, row
    assert row["fd"] > 2 * ceiling["fd"], row
    collapsed = ladder["5 digits x 200"]
    assert collapsed["coverage"] < 0.05 and collapsed["class_tv"] > 0.4, collapsed


def test_the_nearest_training_digit_flags_copies(ladder):
    held_out = ladder["held-out digits (the reference)"]["nearest_train"]
    for name in ("training digits", "250 training digits x 4", "5 digits x 200"):
        assert ladder[name]["nearest_train"] < 0.01 < 1 < held_out, (name, held_out)
