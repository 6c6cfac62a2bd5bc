"""TensorBoard logs (``log_dir=``): read back with tensorboard's own reader, every epoch's
metrics equal the history and each epoch has a grid of samples; logging changes nothing the
run learns; a resumed run logs each epoch once."""
import shutil
import sys

import pytest
import torch

from edu_gen.gan import DCGANDiscriminator, DCGANGenerator, MLPDiscriminator, MLPGenerator
from edu_gen.gan_train import train_gan
from edu_gen.vae import VAE
from edu_gen.vae_train import train_vae

event_accumulator = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")

GRID_SIDE = 8 * (28 + 2) + 2  # make_grid: 8 images of 28 pixels a row, 2 pixels of padding


def read_log(log_dir):
    """``({tag: [(step, value)]}, {tag: [(step, width, height)]})`` from the event files."""
    log = event_accumulator.EventAccumulator(str(log_dir), size_guidance={"scalars": 0, "images": 0})
    log.Reload()
    scalars = {tag: [(e.step, e.value) for e in log.Scalars(tag)] for tag in log.Tags()["scalars"]}
    images = {tag: [(e.step, e.width, e.height) for e in log.Images(tag)] for tag in log.Tags()["images"]}
    return scalars, images


def assert_log_matches(scalars, history):
    assert set(scalars) == set(history)
    for name, values in history.items():
        steps = [step for step, _ in scalars[name]]
        assert steps == list(range(len(values))), f"{name}: steps {steps}"
        logged = torch.tensor([value for _, value in scalars[name]])
        torch.testing.assert_close(logged, torch.tensor(values), rtol=1e-6, atol=0)  # float32


def digits(n=256):
    return torch.rand(n, 1, 28, 28, generator=torch.Generator().manual_seed(1))


def small_vae():
    torch.manual_seed(0)
    return VAE(hidden=(32,), latent_dim=4)


def test_vae_log_holds_every_epochs_metrics_and_samples(tmp_path):
    history = train_vae(small_vae(), digits(), 3, batch_size=64, log_dir=tmp_path / "vae")
    scalars, images = read_log(tmp_path / "vae")
    assert set(history) >= {"loss", "neg_elbo", "distortion", "rate"}
    assert_log_matches(scalars, history)
    assert images == {"samples": [(epoch, GRID_SIDE, GRID_SIDE) for epoch in range(3)]}


def test_logging_changes_nothing_the_run_learns(tmp_path):
    plain, logged = small_vae(), small_vae()
    torch.manual_seed(5)
    history = train_vae(plain, digits(), 2, batch_size=64)
    torch.manual_seed(5)
    history_logged = train_vae(logged, digits(), 2, batch_size=64, log_dir=tmp_path)
    assert history == history_logged
    for a, b in zip(plain.parameters(), logged.parameters()):
        assert torch.equal(a, b)


def test_gan_log_holds_losses_scores_gradient_norms_and_samples(tmp_path):
    torch.manual_seed(0)
    generator, critic = DCGANGenerator(latent_dim=8, ngf=4), DCGANDiscriminator(ndf=4)
    images = digits(128) * 2 - 1                      # pixels in [-1, 1], as G's tanh
    history = train_gan(generator, critic, images, 2, batch_size=32, log_dir=tmp_path)
    scalars, grids = read_log(tmp_path)
    assert {"d_loss", "g_loss", "d_real", "d_fake", "d_grad_norm", "g_grad_norm"} <= set(history)
    assert_log_matches(scalars, history)
    assert grids == {"samples": [(epoch, GRID_SIDE, GRID_SIDE) for epoch in range(2)]}


def test_points_get_metrics_but_no_image_grid(tmp_path):
    torch.manual_seed(0)
    points = torch.randn(256, 2)
    history = train_gan(MLPGenerator(hidden=16), MLPDiscriminator(hidden=16), points, 2,
                        batch_size=64, log_dir=tmp_path)
    scalars, grids = read_log(tmp_path)
    assert_log_matches(scalars, history)
    assert grids == {}


def test_a_resumed_run_logs_each_epoch_once(tmp_path):
    """The first run logs epochs 0, 1, 2 but its checkpoint is put back to after epoch 1, as
    when a kill comes after the log is written and before the next checkpoint; the resumed
    run must replace epoch 2 in the log, not add a second one."""
    checkpoint, log_dir = tmp_path / "run.pt", tmp_path / "log"
    keep = tmp_path / "after_2_epochs.pt"

    def copy_checkpoint(epoch, means):
        if epoch == 1:
            shutil.copy(checkpoint, keep)

    train_vae(small_vae(), digits(), 3, batch_size=64, checkpoint=checkpoint, log_dir=log_dir,
              on_epoch_end=copy_checkpoint)
    shutil.copy(keep, checkpoint)
    history = train_vae(small_vae(), digits(), 4, batch_size=64, checkpoint=checkpoint,
                        log_dir=log_dir)
    scalars, images = read_log(log_dir)
    assert_log_matches(scalars, history)
    assert [step for step, *_ in images["samples"]] == [0, 1, 2, 3]


def test_without_tensorboard_the_error_says_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", None)  # import fails
    with pytest.raises(ImportError, match="pip install tensorboard"):
        train_vae(small_vae(), digits(64), 1, batch_size=64, log_dir=tmp_path)
