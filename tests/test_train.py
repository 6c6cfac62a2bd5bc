"""The training loop and its fast paths, on the CPU (the GPU paths share this code)."""
import copy
import math
import warnings

import pytest
import torch
from torch import nn

from edu_gen.data import Batches
from edu_gen.train import TrainingDiverged, adam, autocast, maybe_compile, train


def constant_step(values):
    """A step that returns the next of ``values`` as a 0-d tensor, like a real step."""
    values = iter(values)

    def step(batch):
        return {"loss": torch.tensor(float(next(values)))}

    return step


# --- the loop ------------------------------------------------------------------------------

def test_train_returns_per_epoch_means():
    batches = [torch.zeros(1)] * 4
    history = train(constant_step([1, 2, 3, 4, 10, 20, 30, 40]), batches, epochs=2)
    assert history == {"loss": [2.5, 25.0]}


def test_train_reads_metrics_from_the_device_once_per_epoch_not_per_step(monkeypatch):
    """Every host read (.item(), float(), .tolist(), bool, .cpu()) is counted: one an epoch,
    however many steps and metrics there are."""
    reads = []
    for name in ("item", "tolist", "__float__", "__bool__", "cpu"):
        original = getattr(torch.Tensor, name)

        def counting(self, *args, _original=original, _name=name, **kwargs):
            reads.append(_name)
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(torch.Tensor, name, counting)

    def step(batch):
        loss = (batch ** 2).mean()
        return {"loss": loss.detach(), "size": batch.abs().sum().detach()}

    counts = []
    for n in (64, 640):  # 2 and 20 steps an epoch
        reads.clear()
        train(step, Batches(torch.randn(n, 3), batch_size=32), epochs=3)
        counts.append(len(reads))
    assert counts[0] == counts[1], f"host reads grew with the steps per epoch: {counts}"
    assert counts[0] == 3, f"{counts[0]} host reads for 3 epochs of 2 metrics, not 3"


def test_nan_raises_training_diverged_and_keeps_the_history():
    step = constant_step([1, 1, 2, 2, 3, float("nan")])
    with pytest.raises(TrainingDiverged, match="loss became nan in epoch 3") as caught:
        train(step, [None, None], epochs=5)
    finished, diverged = caught.value.history["loss"][:2], caught.value.history["loss"][2:]
    assert finished == [1.0, 2.0] and len(diverged) == 1 and math.isnan(diverged[0])


def test_infinite_loss_also_diverges():
    with pytest.raises(TrainingDiverged):
        train(constant_step([float("inf")]), [None], epochs=1)


def test_ctrl_c_stops_training_and_keeps_history(capsys):
    def step(batch, calls=[0]):
        calls[0] += 1
        if calls[0] == 5:
            raise KeyboardInterrupt
        return {"loss": torch.tensor(1.0)}

    history = train(step, [None, None], epochs=10)
    assert history == {"loss": [1.0, 1.0]}
    assert "Stopped by hand after 2 epochs" in capsys.readouterr().out


def test_on_epoch_end_sees_each_epoch_once():
    seen = []
    train(constant_step(range(6)), [None, None], epochs=3,
          on_epoch_end=lambda epoch, means: seen.append((epoch, means["loss"])))
    assert seen == [(0, 0.5), (1, 2.5), (2, 4.5)]


def test_zero_epochs_is_an_error():
    with pytest.raises(ValueError, match="at least 1"):
        train(constant_step([1]), [None], epochs=0)


# --- on-device batches ------------------------------------------------------------------------

@pytest.mark.parametrize("n, batch_size", [(100, 32), (96, 32), (5, 128)])
def test_batches_cover_every_example_once_per_epoch(n, batch_size):
    x = torch.arange(n)
    batches = Batches(x, x * 10, batch_size=batch_size)
    epochs = [[batch for batch in batches] for _ in range(2)]
    for epoch in epochs:
        assert len(epoch) == len(batches)
        seen = torch.cat([xs for xs, _ in epoch])
        assert sorted(seen.tolist()) == list(range(n))
        assert all(torch.equal(ys, xs * 10) for xs, ys in epoch), "rows of the tensors got mixed"
    if n > batch_size:
        assert not torch.equal(torch.cat([b[0] for b in epochs[0]]),
                               torch.cat([b[0] for b in epochs[1]])), "no reshuffle per epoch"


def test_batches_drop_last_gives_full_batches_only():
    batches = Batches(torch.arange(100), batch_size=32, drop_last=True)
    sizes = [len(b) for b in batches]
    assert sizes == [32, 32, 32] and len(batches) == 3


# --- Adam ----------------------------------------------------------------------------------------

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
    frozen = nn.Linear(2, 2).requires_grad_(False)
    with pytest.raises(ValueError, match="no trainable"):
        adam(frozen.parameters())


def test_autocast_is_a_no_op_on_the_cpu():
    layer = nn.Linear(4, 4)
    with autocast("cpu"):
        out = layer(torch.randn(2, 4))
    assert out.dtype == torch.float32


# --- compile, and falling back when it cannot ----------------------------------------------------

def test_maybe_compile_disabled_returns_the_function_itself():
    def f(x):
        return x + 1
    assert maybe_compile(f, enabled=False) is f


def test_maybe_compile_without_torch_compile_warns_and_runs_uncompiled(monkeypatch):
    def unavailable(fn, **options):
        raise RuntimeError("Windows not yet supported for torch.compile")
    monkeypatch.setattr(torch, "compile", unavailable)
    with pytest.warns(UserWarning, match="unavailable"):
        f = maybe_compile(lambda x: x * 2, enabled=True)
    assert f(torch.tensor(3.0)).item() == 6.0


def broken_compiler(monkeypatch, calls):
    """torch.compile whose backend fails the way a missing C++ compiler or triton does."""
    real_compile = torch.compile

    def backend(graph, example_inputs):
        calls.append(1)
        raise RuntimeError("Failed to find C++ compiler")

    torch._dynamo.reset()
    monkeypatch.setattr(torch, "compile", lambda fn, mode=None: real_compile(fn, backend=backend))


def test_maybe_compile_falls_back_when_the_compiler_fails(monkeypatch):
    calls = []
    broken_compiler(monkeypatch, calls)

    def f(x):
        return torch.sin(x) * 2

    fast = maybe_compile(f, enabled=True)
    x = torch.linspace(0, 1, 5)
    with pytest.warns(UserWarning, match="compile failed"):
        torch.testing.assert_close(fast(x), f(x))
    torch.testing.assert_close(fast(x + 1), f(x + 1))
    assert len(calls) == 1, "after a failure the compiler must not be tried again"
    torch._dynamo.reset()


def test_a_mistake_in_the_compiled_function_raises_its_own_error(monkeypatch):
    real_compile = torch.compile
    torch._dynamo.reset()
    monkeypatch.setattr(torch, "compile", lambda fn, mode=None: real_compile(fn, backend="eager"))

    def f(x):
        return x @ torch.ones(3, 3)

    fast = maybe_compile(f, enabled=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "compile failed" warning for the user's own bug
        with pytest.raises(RuntimeError, match="cannot be multiplied|size mismatch|shapes"):
            fast(torch.ones(2, 2))
        torch.testing.assert_close(fast(torch.ones(2, 3)), torch.full((2, 3), 3.0))
    torch._dynamo.reset()


def test_compiled_training_step_matches_eager_on_the_cpu():
    """The real compiler (inductor, C++ on the CPU): same losses as the uncompiled step."""
    pytest.importorskip("torch._inductor")
    torch._dynamo.reset()
    histories = []
    for compile in (False, True):
        torch.manual_seed(0)
        model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 1))
        optimizer = adam(model.parameters(), lr=1e-2)
        loss_fn = maybe_compile(lambda x: (model(x) ** 2).mean(), enabled=compile)

        def step(x):
            loss = loss_fn(x)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            return {"loss": loss.detach()}

        data = torch.randn(96, 8, generator=torch.Generator().manual_seed(1))
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # compiling must work here, not fall back
            histories.append(train(step, Batches(data, batch_size=32, shuffle=False), epochs=3))
    torch.testing.assert_close(histories[1]["loss"], histories[0]["loss"], rtol=1e-4, atol=1e-6)
    assert histories[0]["loss"][-1] < histories[0]["loss"][0], "the step did not train"
    torch._dynamo.reset()


def test_maybe_compile_takes_a_module_as_train_gan_does(monkeypatch):
    real_compile = torch.compile
    torch._dynamo.reset()
    monkeypatch.setattr(torch, "compile", lambda fn, mode=None: real_compile(fn, backend="eager"))
    net = nn.Linear(3, 2)
    forward = maybe_compile(net, enabled=True)
    x = torch.randn(4, 3)
    torch.testing.assert_close(forward(x), net(x))
    forward(x).sum().backward()
    assert net.weight.grad is not None, "gradients must reach the module's own parameters"
    torch._dynamo.reset()


def test_the_loops_store_convolutions_channels_last_with_the_same_values():
    """train_vae and train_gan switch convolution weights to the channels-last layout (a
    speed-up on CPUs and GPUs); the networks still compute the same function."""
    from edu_gen.gan import DCGANDiscriminator, DCGANGenerator
    from edu_gen.gan_train import train_gan
    from edu_gen.vae import VAE, train_vae

    torch.manual_seed(0)
    vae, g, d = VAE(conv=True), DCGANGenerator(ngf=8), DCGANDiscriminator(ndf=8)
    x, z = torch.rand(16, 1, 28, 28), torch.randn(16, 100)
    g.eval()
    d.eval()
    before = (vae.encode(x)[0], vae.decoder(vae.encode(x)[0]), g(z), d(x))
    copies = [copy.deepcopy(m) for m in (vae, g, d)]
    for m in copies:
        m.to(memory_format=torch.channels_last)
    c_vae, c_g, c_d = copies   # g, d copied in eval mode; the VAE has no batch norm
    after = (c_vae.encode(x)[0], c_vae.decoder(vae.encode(x)[0]), c_g(z), c_d(x))
    for b, a in zip(before, after):
        assert torch.allclose(b, a, atol=1e-5), (b - a).abs().max()

    train_vae(vae, x, epochs=1, batch_size=8)
    train_gan(g, d, x * 2 - 1, epochs=1, batch_size=8)
    convs = [p for m in (vae, g, d) for p in m.parameters() if p.dim() == 4]
    assert len(convs) == 10
    assert all(p.is_contiguous(memory_format=torch.channels_last) for p in convs)
    # a weight with one channel (or a 1x1 kernel) has the same strides in both layouts
    assert all(not p.is_contiguous() for p in convs if p.shape[1] > 1 and p.shape[2] > 1)
