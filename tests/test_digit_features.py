"""The shipped digit classifier: accurate on held-out digits, loaded safely, in the wheel."""
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import torch

from edu_gen.data import load_mnist
from edu_gen.digit_features import NUM_FEATURES, WEIGHTS, DigitClassifier, load_digit_classifier

ROOT = Path(__file__).resolve().parents[1]


def test_the_shipped_weights_read_97_percent_of_held_out_digits():
    x, y = load_mnist("test", small=True)
    model = load_digit_classifier()
    with torch.no_grad():
        accuracy = (model(x).argmax(1) == y).float().mean().item()
    assert accuracy >= 0.97, f"held-out accuracy {accuracy:.2%}"
    assert WEIGHTS.stat().st_size < 400 * 1024


def test_an_untrained_network_does_not_pass_the_accuracy_check():
    x, y = load_mnist("test", small=True)
    with torch.no_grad():
        accuracy = (DigitClassifier().eval()(x).argmax(1) == y).float().mean().item()
    assert accuracy < 0.5


def test_features_are_the_penultimate_layer_and_the_model_is_frozen():
    model = load_digit_classifier()
    x = torch.rand(5, 1, 28, 28)
    features = model.features(x)
    assert features.shape == (5, NUM_FEATURES) == (5, model.num_features)
    torch.testing.assert_close(model(x), model.head(features))
    assert not model.training and not any(p.requires_grad for p in model.parameters())


def test_missing_or_corrupt_weights_say_what_to_do(tmp_path):
    with pytest.raises(FileNotFoundError, match="train_digit_classifier.py"):
        load_digit_classifier(path=tmp_path / "nothing.pth")
    corrupt = tmp_path / "corrupt.pth"
    corrupt.write_bytes(WEIGHTS.read_bytes()[:1000])
    with pytest.raises(RuntimeError, match="reinstall edu-gen"):
        load_digit_classifier(path=corrupt)


def test_the_wheel_ships_the_classifier_weights(tmp_path):
    """``pip install .`` (not editable) gets the weights: build a wheel from a copy."""
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(ROOT / name, tmp_path / name)
    shutil.copytree(ROOT / "edu_gen", tmp_path / "edu_gen",
                    ignore=shutil.ignore_patterns("__pycache__"))
    run = subprocess.run([sys.executable, "-m", "pip", "wheel", ".", "--no-deps",
                          "--no-build-isolation", "-q", "-w", "dist"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    wheel, = (tmp_path / "dist").glob("*.whl")
    assert "edu_gen/digit_classifier.pth" in zipfile.ZipFile(wheel).namelist()


def test_the_channels_last_layout_changes_no_feature():
    plain = DigitClassifier().eval()
    plain.load_state_dict(torch.load(WEIGHTS, weights_only=True))
    model = load_digit_classifier()
    assert model.conv1.weight.is_contiguous(memory_format=torch.channels_last)
    x = load_mnist("test", small=True)[0][:200]
    with torch.no_grad():
        torch.testing.assert_close(model.features(x), plain.features(x))


def test_the_second_feature_network_reads_97_percent_and_is_another_architecture():
    x, y = load_mnist("test", small=True)
    model = load_digit_classifier(arch="mlp")
    with torch.no_grad():
        accuracy = (model(x).argmax(1) == y).float().mean().item()
        features = model.features(x[:5])
    assert accuracy >= 0.97, f"held-out accuracy {accuracy:.2%}"
    assert features.shape == (5, NUM_FEATURES) and not model.training
    assert not any(isinstance(m, torch.nn.Conv2d) for m in model.modules())
    with pytest.raises(ValueError, match="unknown arch 'vgg'"):
        load_digit_classifier(arch="vgg")
