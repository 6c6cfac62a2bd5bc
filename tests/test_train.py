"""What the training loops share: the epoch's means on the device, the divergence check,
the learning-rate schedule and Adam; and the loops' Ctrl-C and on_epoch_end behaviour."""
import math
import warnings

import pytest
import torch
from torch import nn

from edu_gen.train import (LossExploded, TrainingDiverged, adam, check_training, epoch_means,
                           lr_schedule, record_epoch)
from edu_gen.vae import VAE
from edu_gen.vae_train import train_vae, vae_step


# --- the epoch's means -------------------------------------------------------------------

def test_epoch_means_give_the_mean_of_each_metric_over_the_steps_that_gave_it():
    steps = [{"loss": torch.tensor(value)} for value in (1.0, 2.0, 3.0, 6.0)]
    steps.append({"g_loss": torch.tensor(5.0)})      # a metric of fewer steps (GAN: G's step)
    assert epoch_means(steps) == {"loss": 3.0, "g_loss": 5.0}
    assert epoch_means([]) == {}


def count_host_reads(monkeypatch):
    """Every host read (.item(), float(), .tolist(), bool, .cpu()) is appended to a list."""
    reads = []
    for name in ("item", "tolist", "__float__", "__bool__", "cpu"):
        original = getattr(torch.Tensor, name)

        def counting(self, *args, _original=original, _name=name, **kwargs):
            reads.append(_name)
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(torch.Tensor, name, counting)
    return reads


def test_an_epoch_reads_the_device_once_however_many_steps_and_metrics(monkeypatch):
    reads = count_host_reads(monkeypatch)
    counts = []
    for steps in (2, 20):
        reads.clear()
        metrics = []
        for _ in range(steps):
            x = torch.randn(8)
            metrics.append({"loss": (x ** 2).mean(), "size": x.abs().sum()})
        epoch_means(metrics)
        counts.append(len(reads))
    assert counts == [1, 1], f"host reads per epoch: {counts}"


def test_train_vae_reads_the_device_a_fixed_number_of_times_per_epoch(monkeypatch):
    """No .item() or float() per step: the host reads do not grow with the steps an epoch."""
    x = torch.rand(64, 1, 28, 28)
    reads = count_host_reads(monkeypatch)
    counts = []
    for batch_size in (32, 4):  # 2 steps, then 16 steps per epoch
        model = VAE(hidden=(8,), latent_dim=2)
        reads.clear()
        train_vae(model, x, epochs=2, batch_size=batch_size, lr_decay=True, kl_warmup_epochs=1)
        counts.append(len(reads))
    assert counts[0] == counts[1], counts


# --- the divergence check --------------------------------------------------------------------

def test_record_epoch_appends_and_a_nan_raises_with_the_history():
    history = {}
    record_epoch(history, {"loss": 1.0}, 0)
    record_epoch(history, {"loss": 2.0}, 1)
    with pytest.raises(TrainingDiverged, match="loss became nan in epoch 3. Usual causes") as caught:
        record_epoch(history, {"loss": float("nan")}, 2)
    assert caught.value.history["loss"][:2] == [1.0, 2.0]
    assert math.isnan(caught.value.history["loss"][2])


def test_an_infinite_metric_also_diverges_and_the_hint_may_read_the_history():
    with pytest.raises(TrainingDiverged, match="rate became inf in epoch 1. 1 epochs seen"):
        record_epoch({}, {"loss": 1.0, "rate": float("inf")}, 0,
                     hint=lambda history: f"{len(history['loss'])} epochs seen.")


# --- the loops' Ctrl-C and callbacks (train_vae stands for every loop) ------------------------

def test_ctrl_c_stops_training_and_keeps_the_finished_epochs(capsys):
    calls = []

    def interrupted_step(*args):
        calls.append(1)
        if len(calls) == 5:
            raise KeyboardInterrupt
        return vae_step(*args)

    model = VAE(hidden=(8,), latent_dim=2)
    history = train_vae(model, torch.rand(8, 1, 28, 28), epochs=10, batch_size=4,
                        step=interrupted_step)
    assert len(history["loss"]) == 2
    assert "Stopped by hand after 2 epochs" in capsys.readouterr().out
    assert not model.training, "the model is left in eval mode, as after a full run"


def test_on_epoch_end_sees_each_epoch_once():
    seen = []
    train_vae(VAE(hidden=(8,), latent_dim=2), torch.rand(8, 1, 28, 28), epochs=3, batch_size=4,
              on_epoch_end=lambda epoch, means: seen.append((epoch, sorted(means))))
    assert seen == [(e, ["distortion", "loss", "neg_elbo", "rate"]) for e in range(3)]


@pytest.mark.parametrize("epochs, batch_size, message", [
    (0, 8, "epochs"), (2.5, 8, "epochs"), (1, 0, "batch_size")])
def test_bad_loop_settings_are_clear_errors(epochs, batch_size, message):
    with pytest.raises(ValueError, match=message):
        check_training(epochs, batch_size)


# --- the learning-rate schedule ---------------------------------------------------------------

@pytest.mark.filterwarnings("ignore:Detected call of")  # a schedule without optimizer steps
def test_lr_decay_falls_linearly_to_zero_over_the_epochs():
    """Epoch e (from 0) trains at lr (1 - e / E); read from the optimizer each epoch."""
    optimizer = adam(nn.Linear(2, 2).parameters(), lr=0.01)
    schedule = lr_schedule(optimizer, epochs=4, decay=True)
    seen = []
    for _ in range(4):
        seen.append(optimizer.param_groups[0]["lr"])
        schedule.step()
    assert seen == pytest.approx([0.01, 0.0075, 0.005, 0.0025])
    constant = adam(nn.Linear(2, 2).parameters(), lr=0.01)
    schedule = lr_schedule(constant, epochs=4, decay=False)
    schedule.step()
    assert constant.param_groups[0]["lr"] == 0.01
    with pytest.raises(ValueError, match="lr_decay must be True or False"):
        lr_schedule(constant, 4, "cosine")


def test_train_vae_applies_the_schedule_to_every_step():
    seen = []

    def spying_step(model, optimizer, *args):
        seen.append(optimizer.param_groups[0]["lr"])
        return vae_step(model, optimizer, *args)

    train_vae(VAE(hidden=(8,), latent_dim=2), torch.rand(40, 1, 28, 28), epochs=2,
              batch_size=10, lr=0.01, lr_decay=True, step=spying_step)
    assert seen == pytest.approx([0.01] * 4 + [0.005] * 4)


# --- Adam --------------------------------------------------------------------------------------

def test_adam_matches_the_textbook_adam_update():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(5, 7), nn.Tanh(), nn.Linear(7, 1))
    reference = nn.Sequential(nn.Linear(5, 7), nn.Tanh(), nn.Linear(7, 1))
    reference.load_state_dict(model.state_dict())
    fast = adam(model.parameters(), lr=1e-2, betas=(0.5, 0.9))
    plain = torch.optim.Adam(reference.parameters(), lr=1e-2, betas=(0.5, 0.9), foreach=False)
    x, y = torch.randn(64, 5), torch.randn(64, 1)
    for _ in range(20):
        for net, optimizer in ((model, fast), (reference, plain)):
            optimizer.zero_grad()
            ((net(x) - y) ** 2).mean().backward()
            optimizer.step()
    for p, q in zip(model.parameters(), reference.parameters()):
        torch.testing.assert_close(p, q, rtol=1e-5, atol=1e-6)


def test_adam_uses_a_fused_or_foreach_update():
    optimizer = adam(nn.Linear(3, 3).parameters())
    group = optimizer.param_groups[0]
    assert group["fused"] or group["foreach"], "adam() fell back to the per-parameter loop"
    major, minor = (int(part) for part in torch.__version__.split(".")[:2])
    if (major, minor) >= (2, 4):  # PyTorch has a fused Adam for the CPU since 2.4
        assert group["fused"], "adam() missed the fused CPU kernel"


def test_adam_rejects_bad_settings():
    with pytest.raises(ValueError, match="positive"):
        adam(nn.Linear(2, 2).parameters(), lr=0)
    with pytest.raises(ValueError, match="positive"):
        adam(nn.Linear(2, 2).parameters(), lr=float("nan"))
    frozen = nn.Linear(2, 2).requires_grad_(False)
    with pytest.raises(ValueError, match="no trainable"):
        adam(frozen.parameters())


# --- a loss that explodes without reaching inf warns (issue 30) -------------------------------

def test_an_epoch_mean_a_millionfold_its_first_step_warns():
    """The rule: |epoch mean| > 1e6 * max(1, |the epoch's first step|)."""
    steps = [{"loss": torch.tensor(v)} for v in (500.0, 1e9, 2e9)]          # mean 1e9 > 5e8
    with pytest.warns(LossExploded, match=r"loss = 1e\+09 \(its first step: 500\)"):
        assert epoch_means(steps) == {"loss": pytest.approx(1e9, rel=1e-6)}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        epoch_means([{"loss": torch.tensor(v)} for v in (500.0, 6e8, 6e8)])  # mean 4e8 < 5e8
        epoch_means([{"d_loss": torch.tensor(v)} for v in (1e-3, 1.4e6)])     # 7e5: 1 counts, not 1e-3
    with pytest.warns(LossExploded):
        epoch_means([{"d_loss": torch.tensor(v)} for v in (1e-3, 3e6)])
    with warnings.catch_warnings():
        warnings.simplefilter("error")                     # inf: record_epoch raises instead
        epoch_means([{"loss": torch.tensor(v)} for v in (1.0, 1e30)] + [{"gp": torch.tensor(float("inf"))}])


def test_an_epoch_mean_a_millionfold_the_first_epochs_warns_once_as_it_crosses():
    history = {}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for value in (300.0, 1e4, 2.9e8):                   # below 300 * 1e6 = 3e8: silent
            record_epoch(history, {"loss": value}, len(history.get("loss", [])))
    with pytest.warns(LossExploded, match=r"loss = 4e\+08 \(epoch 1: 300\).*10 times lower"):
        record_epoch(history, {"loss": 4e8}, 3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        record_epoch(history, {"loss": 9e8}, 4)              # still exploded: no second warning
    assert history["loss"] == [300.0, 1e4, 2.9e8, 4e8, 9e8]


def test_train_vae_warns_when_its_loss_explodes():
    """A step whose loss grows a thousandfold every step (0.5 * 1000^t nats): no inf, a warning."""
    calls = []

    def exploding_step(model, optimizer, x, labels, beta, free_bits):
        metrics = vae_step(model, optimizer, x, labels, beta, free_bits)
        calls.append(1)
        return {**metrics, "loss": torch.tensor(0.5 * 1000.0 ** len(calls))}

    with pytest.warns(LossExploded, match="loss = "):
        history = train_vae(VAE(hidden=(8,), latent_dim=2), torch.rand(16, 1, 28, 28), 1,
                            batch_size=4, step=exploding_step)
    assert len(history["loss"]) == 1, "the warning does not stop training"


def test_a_gan_at_lr_10_is_never_silent():
    """The issue's case: train_gan(lr=10) ended with losses near 1e16 and no word. Now it
    warns, or (where the numbers reach inf on another machine) stops with TrainingDiverged."""
    from edu_gen.gan import MLPDiscriminator, MLPGenerator
    from edu_gen.gan_train import train_gan
    torch.manual_seed(0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            train_gan(MLPGenerator(), MLPDiscriminator(), torch.randn(1024, 2), 2, lr=10)
            diverged = False
        except TrainingDiverged:
            diverged = True
    assert diverged or any(issubclass(w.category, LossExploded) for w in caught)
