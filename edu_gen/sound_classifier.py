"""The yardstick's ears: a spoken-digit classifier shipped with the package.

It is the book's LeNet (``edu_gen.digit_features.DigitClassifier``) trained on the log-mel
pictures of clips (``edu_gen.sound_features.log_mel``, 28 x 28 like an MNIST digit) by
``scripts/train_sound_classifier.py`` (fixed seed, the 24 training voices), and ships as
``edu_gen/sound_classifier.pth``. It hears a clip, never a picture: every clip judged
(real, or a generated picture made audible by Griffin-Lim) goes through ``log_mel`` first.
Its 84-number penultimate layer is the feature space of ``edu_gen.sound_metrics``.
"""
from pathlib import Path

import torch

from .digit_features import DigitClassifier
from .sound_data import SAMPLE_RATE
from .sound_features import log_mel

WEIGHTS = Path(__file__).with_name("sound_classifier.pth")


def load_sound_classifier(device="cpu", path=WEIGHTS):
    """The shipped spoken-digit classifier in eval mode, frozen, on ``device``."""
    model = DigitClassifier()
    try:
        model.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
    except FileNotFoundError as error:
        raise FileNotFoundError(
            f"the spoken-digit classifier's weights are missing ({path}): reinstall edu-gen, "
            "or train them again with python scripts/train_sound_classifier.py") from error
    except Exception as error:
        raise RuntimeError(
            f"{path} is not a readable classifier state ({type(error).__name__}: "
            f"{str(error)[:200]}): reinstall edu-gen, or run "
            "python scripts/train_sound_classifier.py") from error
    return model.eval().requires_grad_(False).to(device)


@torch.no_grad()
def hear(clips, classifier=None, sample_rate=SAMPLE_RATE, batch_size=1000):
    """What the classifier hears in ``clips`` (N, 8000) at 8 kHz: ``(features (N, 84),
    probabilities (N, 10))``, float32 on the CPU. Bad clips (another rate or length,
    stereo, NaN, silence) raise a ValueError that says what to do."""
    pictures = log_mel(clips, sample_rate)
    if classifier is None:
        classifier = load_sound_classifier()
    device = next(classifier.parameters()).device
    features, probabilities = [], []
    for batch in pictures.split(batch_size):
        f = classifier.features(batch.to(device))
        features.append(f.float().cpu())
        probabilities.append(torch.softmax(classifier.head(f).float(), 1).cpu())
    return torch.cat(features), torch.cat(probabilities)
