"""Train the spoken-digit classifier of ``edu_gen.sound_metrics`` and write its shipped weights.

    python scripts/train_sound_classifier.py        # 13 minutes on 2 busy CPU cores

The book's LeNet (``DigitClassifier``) on the log-mel pictures of the 3,840 training clips
(24 voices), seed 0, on the CPU, each picture shifted in time by up to 4 frames and made up
to 8 dB louder or quieter. Prints the accuracy on the 960 clips of the 6 held-out voices,
and on the same clips after the Griffin-Lim round trip; writes ``edu_gen/sound_classifier.pth``.
"""
import time

import torch
import torch.nn.functional as F

from edu_gen.digit_features import DigitClassifier
from edu_gen.runtime import seed_everything
from edu_gen.sound_classifier import WEIGHTS
from edu_gen.sound_data import load_spoken_digits
from edu_gen.sound_features import log_mel, to_waveform

EPOCHS = 30
BATCH_SIZE = 64
LR = 2e-3


def augment(pictures, max_shift=4, max_gain=0.1):
    """Each picture rolled along time by up to ``max_shift`` frames and its sound (values
    above 0) raised or lowered by up to ``max_gain`` (0.1 of the 80 dB range: 8 dB)."""
    shifts = torch.randint(-max_shift, max_shift + 1, (len(pictures),)).tolist()
    out = torch.stack([torch.roll(p, s, dims=-1) for p, s in zip(pictures, shifts)])
    gain = (torch.rand(len(out), 1, 1, 1) * 2 - 1) * max_gain
    return (out + gain * (out > 0)).clamp(0, 1)


@torch.no_grad()
def accuracy(model, pictures, digits):
    model.eval()
    return (model(pictures).argmax(1) == digits).float().mean().item()


def main():
    torch.set_num_threads(min(2, torch.get_num_threads()))
    seed_everything(0)
    clips, digits, _ = load_spoken_digits("train")
    test_clips, test_digits, _ = load_spoken_digits("test")
    x, x_test = log_mel(clips), log_mel(test_clips)
    model = DigitClassifier()
    optimizer = torch.optim.Adam(model.parameters(), lr=LR)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda e: 1 - e / EPOCHS)
    start = time.perf_counter()
    for epoch in range(EPOCHS):
        model.train()
        for rows in torch.randperm(len(x)).split(BATCH_SIZE):
            loss = F.cross_entropy(model(augment(x[rows])), digits[rows])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        schedule.step()
        if (epoch + 1) % 5 == 0:
            print(f"epoch {epoch + 1}: loss {loss.item():.3f}, held-out voices "
                  f"{accuracy(model, x_test, test_digits):.2%}", flush=True)
    round_trip = log_mel(to_waveform(x_test, generator=torch.Generator().manual_seed(0)))
    print(f"trained in {time.perf_counter() - start:.0f} s; held-out voices "
          f"{accuracy(model, x_test, test_digits):.2%} of {len(x_test)} clips, after "
          f"Griffin-Lim {accuracy(model, round_trip, test_digits):.2%}; "
          f"train {accuracy(model, x, digits):.2%}")
    torch.save(model.state_dict(), WEIGHTS)
    print(f"wrote {WEIGHTS} ({WEIGHTS.stat().st_size / 1024:.0f} KiB)")


if __name__ == "__main__":
    main()
