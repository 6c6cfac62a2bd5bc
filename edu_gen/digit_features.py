"""The book's feature network: a LeNet-sized digit classifier shipped with the package.

``edu_gen.metrics`` judges samples in the space of this network's penultimate layer (84
numbers an image), the way FID uses Inception-v3. Its weights were trained once by
``scripts/train_digit_classifier.py`` (fixed seed, the 4,000 offline training digits) and
ship as ``edu_gen/digit_classifier.pth``, so every machine and profile measures with the
same network. Input: images (N, 1, 28, 28) in [0, 1].

A second feature network of another architecture, ``DigitMLP`` (no convolutions: 784-256-84
on raw pixels, weights ``edu_gen/digit_mlp.pth``, trained by the same script with
``--arch mlp``), gives a second feature space in which a comparison can be repeated: a
"tie" between two models that holds in both spaces is not an accident of one network.
"""
from pathlib import Path

import torch
from torch import nn
import torch.nn.functional as F

WEIGHTS = Path(__file__).with_name("digit_classifier.pth")
MLP_WEIGHTS = Path(__file__).with_name("digit_mlp.pth")
NUM_FEATURES = 84


class DigitClassifier(nn.Module):
    """LeNet-5 with wider convolutions: two 5x5 conv + max-pool blocks, then 800-120-84-10."""

    num_features = NUM_FEATURES

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 5, padding=2)    # (8, 28, 28) -> pool -> (8, 14, 14)
        self.conv2 = nn.Conv2d(8, 16, 5)              # (16, 10, 10) -> pool -> (16, 5, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, NUM_FEATURES)
        self.head = nn.Linear(NUM_FEATURES, 10)
        self.dropout = nn.Dropout(0.3)

    def features(self, x):
        """The penultimate layer: (N, 84) non-negative features of images (N, 1, 28, 28)."""
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = F.relu(self.fc1(x.flatten(1)))
        return F.relu(self.fc2(self.dropout(x)))

    def forward(self, x):
        """Logits (N, 10) of the ten digits."""
        return self.head(self.dropout(self.features(x)))


class DigitMLP(nn.Module):
    """The second feature network: pixels 784 -> 256 -> 84 (ReLU) -> 10 digits."""

    num_features = NUM_FEATURES

    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(28 * 28, 256)
        self.fc2 = nn.Linear(256, NUM_FEATURES)
        self.head = nn.Linear(NUM_FEATURES, 10)
        self.dropout = nn.Dropout(0.3)

    def features(self, x):
        """The penultimate layer: (N, 84) non-negative features of images (N, 1, 28, 28)."""
        return F.relu(self.fc2(self.dropout(F.relu(self.fc1(x.flatten(1))))))

    def forward(self, x):
        """Logits (N, 10) of the ten digits."""
        return self.head(self.dropout(self.features(x)))


ARCHITECTURES = {"lenet": (DigitClassifier, WEIGHTS), "mlp": (DigitMLP, MLP_WEIGHTS)}


def load_digit_classifier(device="cpu", path=None, arch="lenet"):
    """A shipped classifier in eval mode, frozen, on ``device``: ``arch="lenet"`` (the book's
    feature network) or ``"mlp"`` (the second feature space)."""
    if arch not in ARCHITECTURES:
        raise ValueError(f"unknown arch {arch!r}: use one of {sorted(ARCHITECTURES)}")
    network, default_path = ARCHITECTURES[arch]
    path = default_path if path is None else path
    model = network()
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
        model.load_state_dict(state)
    except FileNotFoundError as error:
        raise FileNotFoundError(
            f"the digit classifier's weights are missing ({path}): reinstall edu-gen, or "
            f"train them again with python scripts/train_digit_classifier.py --arch {arch}") from error
    except Exception as error:
        raise RuntimeError(
            f"{path} is not a readable DigitClassifier state ({type(error).__name__}: "
            f"{str(error)[:200]}): reinstall edu-gen, or run "
            "python scripts/train_digit_classifier.py") from error
    model = model.eval().requires_grad_(False)
    if arch == "mlp":
        return model.to(device)
    # convolution weights channels-last: on a CPU the features come about 1.7x faster
    return model.to(device, memory_format=torch.channels_last)
