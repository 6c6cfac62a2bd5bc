"""The sound yardstick: the inception score against scipy and closed forms (with a planted
reversed KL), the shipped classifier's accuracy on held-out voices, and its error messages."""
import numpy as np
import pytest
import torch
from scipy.stats import entropy

from edu_gen.sound_classifier import hear, load_sound_classifier
from edu_gen.sound_data import load_spoken_digits
from edu_gen.sound_features import log_mel, to_waveform
from edu_gen.sound_metrics import evaluate_clips, inception_score, nearest_training_features


def scipy_inception_score(p, splits):
    scores = []
    for part in np.array_split(p, splits):
        marginal = part.mean(0)
        scores.append(np.exp(np.mean([entropy(row, marginal) for row in part])))
    return np.mean(scores), np.std(scores)


def test_inception_score_matches_scipy():
    p = torch.softmax(3 * torch.randn(1000, 10, generator=torch.Generator().manual_seed(0)), 1)
    ours = inception_score(p, splits=10)
    np.testing.assert_allclose(ours, scipy_inception_score(p.double().numpy(), 10), rtol=1e-7)


def test_inception_score_closed_forms():
    confident = torch.eye(10).repeat(20, 1)          # every digit, equally often, certain
    assert inception_score(confident) == pytest.approx((10.0, 0.0))
    same = torch.full((200, 10), 0.1)                # no clip tells anything
    assert inception_score(same)[0] == pytest.approx(1.0)
    one_digit = torch.eye(10)[torch.zeros(200, dtype=torch.long)]
    assert inception_score(one_digit)[0] == pytest.approx(1.0)


def test_a_planted_reversed_kl_is_caught():
    p = torch.softmax(3 * torch.randn(500, 10, generator=torch.Generator().manual_seed(1)), 1).double()
    marginal = p.mean(0)
    reversed_kl = np.exp(np.mean([entropy(marginal.numpy(), row.numpy()) for row in p]))
    assert abs(inception_score(p, splits=1)[0] - reversed_kl) > 0.1


def test_inception_score_bad_input():
    with pytest.raises(ValueError, match="sum to 1"):
        inception_score(torch.rand(100, 10) + 0.5)
    with pytest.raises(ValueError, match="fewer splits"):
        inception_score(torch.full((5, 10), 0.1), splits=10)


@pytest.fixture(scope="module")
def test_set():
    return load_spoken_digits("test")


def test_shipped_classifier_reads_held_out_voices(test_set):
    clips, digits, _ = test_set
    features, p = hear(clips)
    assert features.shape == (960, 84) and torch.allclose(p.sum(1), torch.ones(960))
    assert (p.argmax(1) == digits).float().mean() >= 0.97
    # and after the Griffin-Lim round trip (the inversion does not limit the samples)
    back = to_waveform(log_mel(clips[::2]), 16, generator=torch.Generator().manual_seed(0))
    assert (hear(back)[1].argmax(1) == digits[::2]).float().mean() >= 0.95


def test_evaluate_clips_on_real_clips(test_set):
    clips, digits, _ = test_set
    train, _, _ = load_spoken_digits("train")
    r = evaluate_clips(clips[::2], clips[1::2], digits[::2], training=train[:500])
    assert r["accuracy"] >= 0.97 and r["inception_score"] > 8 and r["recall"] > 0.5
    assert r["n"] == 480 and r["nearest_train"] > 0


def test_nearest_training_features_finds_copies():
    train = torch.randn(50, 84, generator=torch.Generator().manual_seed(0))
    distance, index = nearest_training_features(train[[3, 7]] + 1e-4, train)
    assert torch.equal(index, torch.tensor([3, 7])) and (distance < 1e-2).all()


def test_the_yardstick_refuses_bad_clips():
    with pytest.raises(ValueError, match="16000 Hz"):
        hear(0.5 * torch.ones(4, 16000), sample_rate=16000)
    with pytest.raises(ValueError, match="silent"):
        hear(torch.zeros(4, 8000))


def test_missing_weights_say_how_to_train_them(tmp_path):
    with pytest.raises(FileNotFoundError, match="train_sound_classifier.py"):
        load_sound_classifier(path=tmp_path / "none.pth")
