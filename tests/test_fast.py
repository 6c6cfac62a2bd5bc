"""edu_gen.fast: compiling falls back cleanly where it cannot work, compiled steps and
networks compute what the eager ones do, and channels-last keeps every value."""
import copy
import warnings

import pytest
import torch
from torch import nn

from edu_gen.fast import channels_last, compile_network, compiled
from edu_gen.gan import DCGANDiscriminator, DCGANGenerator, MLPDiscriminator, MLPGenerator
from edu_gen.gan_train import train_gan
from edu_gen.vae import VAE
from edu_gen.vae_train import train_vae, vae_step


@pytest.fixture(autouse=True)
def fresh_dynamo():
    torch._dynamo.reset()
    yield
    torch._dynamo.reset()


def test_without_torch_compile_it_warns_and_runs_uncompiled(monkeypatch):
    def unavailable(fn, **options):
        raise RuntimeError("Windows not yet supported for torch.compile")
    monkeypatch.setattr(torch, "compile", unavailable)
    with pytest.warns(UserWarning, match="unavailable"):
        f = compiled(lambda x: x * 2)
    assert f(torch.tensor(3.0)).item() == 6.0


def test_it_falls_back_once_when_the_compiler_fails(monkeypatch):
    """A backend that fails the way a missing C++ compiler or triton does."""
    calls, real_compile = [], torch.compile

    def backend(graph, example_inputs):
        calls.append(1)
        raise RuntimeError("Failed to find C++ compiler")

    monkeypatch.setattr(torch, "compile", lambda fn, mode=None: real_compile(fn, backend=backend))

    def f(x):
        return torch.sin(x) * 2

    fast = compiled(f)
    x = torch.linspace(0, 1, 5)
    with pytest.warns(UserWarning, match="compile failed"):
        torch.testing.assert_close(fast(x), f(x))
    torch.testing.assert_close(fast(x + 1), f(x + 1))
    assert len(calls) == 1, "after a failure the compiler must not be tried again"


def test_with_cuda_graphs_the_outputs_are_copies_the_next_replay_cannot_overwrite(monkeypatch):
    """A CUDA graph reuses its output memory: here a "graph" that returns the same tensors
    at every call stands for it. The trainers keep every step's metrics for an epoch."""
    buffer = {"loss": torch.tensor(1.0), "rate": torch.tensor(2.0)}

    def replay(x):
        buffer["loss"].fill_(x)
        return buffer

    monkeypatch.setattr(torch, "compile", lambda fn, mode=None: replay)
    kept = [compiled(replay, mode="reduce-overhead")(x) for x in (3.0, 4.0)]
    assert [metrics["loss"].item() for metrics in kept] == [3.0, 4.0]
    assert kept[0]["loss"] is not buffer["loss"] and kept[0]["rate"].item() == 2.0
    assert compiled(replay, mode="default")(5.0) is buffer   # no CUDA graphs: no copies


def test_a_mistake_in_the_compiled_function_raises_its_own_error(monkeypatch):
    real_compile = torch.compile
    monkeypatch.setattr(torch, "compile", lambda fn, mode=None: real_compile(fn, backend="eager"))

    def f(x):
        return x @ torch.ones(3, 3)

    fast = compiled(f)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "compile failed" warning for the user's own bug
        with pytest.raises(RuntimeError, match="cannot be multiplied|size mismatch|shapes"):
            fast(torch.ones(2, 2))
        torch.testing.assert_close(fast(torch.ones(2, 3)), torch.full((2, 3), 3.0))


def test_a_compiled_vae_step_trains_as_the_eager_one_on_the_cpu(monkeypatch):
    """The real compiler (inductor, C++ on the CPU): the same losses as the eager step.
    Inductor draws its own random numbers unless told to use eager's (``fallback_random``);
    with the same noise the two steps must agree."""
    inductor_config = pytest.importorskip("torch._inductor.config")
    monkeypatch.setattr(inductor_config, "fallback_random", True)
    x = torch.rand(96, 1, 28, 28, generator=torch.Generator().manual_seed(1))
    histories = []
    for step in (vae_step, compiled(vae_step)):
        torch.manual_seed(0)
        model = VAE(hidden=(16,), latent_dim=2)
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            histories.append(train_vae(model, x, epochs=2, batch_size=32, step=step))
        fallbacks = [str(w.message) for w in seen if "torch.compile" in str(w.message)]
        assert not fallbacks, f"compiling must work here, not fall back: {fallbacks}"
    torch.testing.assert_close(histories[1]["loss"], histories[0]["loss"], rtol=1e-4, atol=1e-4)


def test_compiled_networks_train_a_gan_as_the_eager_ones(monkeypatch):
    real_compile = torch.compile
    monkeypatch.setattr(torch, "compile", lambda fn, mode=None: real_compile(fn, backend="eager"))
    data = torch.randn(256, 2)
    histories = []
    for compile in (False, True):
        torch.manual_seed(0)
        g, d = MLPGenerator(2, hidden=8), MLPDiscriminator((2,), hidden=8, spectral_norm=True)
        if compile:
            compile_network(g), compile_network(d)
        histories.append(train_gan(g, d, data, 2, batch_size=64))
    for key in histories[0]:
        torch.testing.assert_close(histories[1][key], histories[0][key], rtol=1e-5, atol=1e-6)


def test_channels_last_keeps_the_functions_and_sets_the_layout():
    torch.manual_seed(0)
    vae, g, d = VAE(conv=True), DCGANGenerator(ngf=8), DCGANDiscriminator(ndf=8)
    x, z = torch.rand(16, 1, 28, 28), torch.randn(16, 100)
    g.eval()
    d.eval()
    mu = vae.encode(x)[0]
    before = (mu, vae.decode_logits(mu), g(z), d(x))
    copies = channels_last(*(copy.deepcopy(m) for m in (vae, g, d)))
    c_vae, c_g, c_d = copies   # g, d copied in eval mode; the VAE has no batch norm
    after = (c_vae.encode(x)[0], c_vae.decode_logits(mu), c_g(z), c_d(x))
    for b, a in zip(before, after):
        assert torch.allclose(b, a, atol=1e-5), (b - a).abs().max()
    convs = [p for m in copies for p in m.parameters() if p.dim() == 4]
    assert len(convs) == 10
    assert all(p.is_contiguous(memory_format=torch.channels_last) for p in convs)
    # a weight with one channel (or a 1x1 kernel) has the same strides in both layouts
    assert all(not p.is_contiguous() for p in convs if p.shape[1] > 1 and p.shape[2] > 1)
    train_vae(c_vae, x, epochs=1, batch_size=8)          # and they still train
    train_gan(c_g, c_d, x * 2 - 1, epochs=1, batch_size=8)
