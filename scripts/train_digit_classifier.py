"""Train the feature network of ``edu_gen.metrics`` and write its shipped weights.

    python scripts/train_digit_classifier.py             # about a minute on 2 CPU cores
    python scripts/train_digit_classifier.py --arch mlp  # the second feature space

The 4,000 offline training digits (``load_mnist("train", small=True)``), seed 0, on the CPU,
with small random rotations, scalings and shifts of each digit. Prints the accuracy on the
1,000 held-out digits and writes ``edu_gen/digit_classifier.pth`` (``--arch mlp``:
``edu_gen/digit_mlp.pth``).
"""
import argparse
import math
import time

import torch
import torch.nn.functional as F

from edu_gen.data import load_mnist
from edu_gen.digit_features import ARCHITECTURES
from edu_gen.runtime import seed_everything

EPOCHS = 60
BATCH_SIZE = 64
LR = 2e-3


def augment(x, max_degrees=10.0, max_scale=0.1, max_shift=2.0):
    """Each image rotated, scaled and shifted at random (up to 10 degrees, 10 %, 2 pixels)."""
    n = len(x)
    angle = (torch.rand(n) * 2 - 1) * math.radians(max_degrees)
    scale = 1 + (torch.rand(n) * 2 - 1) * max_scale
    shift = (torch.rand(n, 2) * 2 - 1) * max_shift * 2 / 28   # grid units: 2 = the image width
    cos, sin = angle.cos() / scale, angle.sin() / scale
    theta = torch.stack([torch.stack([cos, -sin, shift[:, 0]], 1),
                         torch.stack([sin, cos, shift[:, 1]], 1)], 1)
    grid = F.affine_grid(theta, x.shape, align_corners=False)
    return F.grid_sample(x, grid, align_corners=False, padding_mode="zeros")


@torch.no_grad()
def accuracy(model, x, y):
    model.eval()
    return (model(x).argmax(1) == y).float().mean().item()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arch", default="lenet", choices=sorted(ARCHITECTURES))
    args = parser.parse_args()
    network, weights = ARCHITECTURES[args.arch]
    torch.set_num_threads(min(2, torch.get_num_threads()))
    seed_everything(0)
    x, y = load_mnist("train", small=True)
    x_test, y_test = load_mnist("test", small=True)
    model = network()
    optimizer = torch.optim.Adam(model.parameters(), lr=LR)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda e: 1 - e / EPOCHS)
    start = time.perf_counter()
    for epoch in range(EPOCHS):
        model.train()
        for rows in torch.randperm(len(x)).split(BATCH_SIZE):
            loss = F.cross_entropy(model(augment(x[rows])), y[rows])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        schedule.step()
        if (epoch + 1) % 10 == 0:
            print(f"epoch {epoch + 1}: loss {loss.item():.3f}, "
                  f"held-out accuracy {accuracy(model, x_test, y_test):.2%}")
    test_accuracy = accuracy(model, x_test, y_test)
    print(f"trained in {time.perf_counter() - start:.0f} s; held-out accuracy "
          f"{test_accuracy:.2%} on {len(y_test):,} digits; train {accuracy(model, x, y):.2%}")
    torch.save(model.state_dict(), weights)
    print(f"wrote {weights} ({weights.stat().st_size / 1024:.0f} KiB)")


if __name__ == "__main__":
    main()
