"""Resumable training: a run killed with SIGKILL in the middle of an epoch and resumed from
its checkpoint ends bitwise equal to an uninterrupted run (weights and history, on the CPU);
a checkpoint of other settings or another architecture is refused, naming what differs."""
import os
import signal
import subprocess
import sys
import textwrap

import pytest
import torch

from edu_gen.checkpoint import CheckpointError
from edu_gen.vae import VAE
from edu_gen.vae_train import train_vae

EPOCHS = 4
SETUP = """
import torch
torch.set_num_threads(1)
from edu_gen.vae import VAE
from edu_gen.vae_train import train_vae, vae_step

def digits():
    g = torch.Generator().manual_seed(1)
    return torch.rand(300, 1, 28, 28, generator=g)

def fresh_model():
    torch.manual_seed(0)
    return VAE(hidden=(32,), latent_dim=2)
"""


def run_python(code, tmp_path, setup=""):
    return subprocess.run([sys.executable, "-c", SETUP + setup + textwrap.dedent(code)], cwd=tmp_path,
                          capture_output=True, text=True, timeout=300)


def uninterrupted(tmp_path):
    namespace = {}
    exec(SETUP, namespace)
    model = namespace["fresh_model"]()
    history = train_vae(model, namespace["digits"](), EPOCHS, batch_size=64, lr_decay=True)
    return model, history


def test_a_run_killed_mid_epoch_resumes_to_the_same_weights_and_history(tmp_path):
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        model, history = uninterrupted(tmp_path)
    finally:
        torch.set_num_threads(threads)
    # The child kills itself with SIGKILL at the 3rd step of its 3rd epoch (5 steps an epoch).
    killed = run_python("""
        import os, signal
        calls = []
        def step_then_die(*args):
            calls.append(1)
            if len(calls) == 2 * 5 + 3:
                os.kill(os.getpid(), signal.SIGKILL)
            return vae_step(*args)
        train_vae(fresh_model(), digits(), %d, batch_size=64, lr_decay=True,
                  step=step_then_die, checkpoint="run.pt")
    """ % EPOCHS, tmp_path)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    saved = torch.load(tmp_path / "run.pt", weights_only=True)
    assert saved["epochs_done"] == 2 and not (tmp_path / "run.pt.tmp").exists()
    resumed = run_python("""
        torch.manual_seed(123)                      # another seed: the file's states must win
        model = VAE(hidden=(32,), latent_dim=2)
        history = train_vae(model, digits(), %d, batch_size=64, lr_decay=True, checkpoint="run.pt")
        torch.save({"model": model.state_dict(), "history": history}, "resumed.pt")
    """ % EPOCHS, tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    result = torch.load(tmp_path / "resumed.pt", weights_only=True)
    assert result["history"] == history
    for name, weight in model.state_dict().items():
        assert torch.equal(result["model"][name], weight), name


def test_without_the_saved_random_states_the_resumed_run_differs(tmp_path, monkeypatch):
    """The planted bug: a resume that forgets the random states is caught by the comparison."""
    import edu_gen.checkpoint as checkpoint
    x = torch.rand(300, 1, 28, 28, generator=torch.Generator().manual_seed(1))
    torch.manual_seed(0)
    straight = VAE(hidden=(32,), latent_dim=2)
    train_vae(straight, x, 2, batch_size=64)
    torch.manual_seed(0)
    resumed = VAE(hidden=(32,), latent_dim=2)
    train_vae(resumed, x, 1, batch_size=64, checkpoint=tmp_path / "run.pt")
    monkeypatch.setattr(checkpoint, "set_random_states", lambda states: torch.manual_seed(5))
    train_vae(resumed, x, 2, batch_size=64, checkpoint=tmp_path / "run.pt")
    assert not all(torch.equal(a, b) for a, b in zip(straight.parameters(), resumed.parameters()))


def test_other_settings_or_another_architecture_are_refused(tmp_path):
    x = torch.rand(200, 1, 28, 28)
    path = tmp_path / "run.pt"
    train_vae(VAE(hidden=(16,), latent_dim=2), x, 1, batch_size=64, checkpoint=path)
    with pytest.raises(CheckpointError, match=r"batch_size=64, but this run has batch_size=32"):
        train_vae(VAE(hidden=(16,), latent_dim=2), x, 2, batch_size=32, checkpoint=path)
    with pytest.raises(CheckpointError, match="different architecture"):
        train_vae(VAE(hidden=(8,), latent_dim=2), x, 2, batch_size=64, checkpoint=path)
    path.write_bytes(path.read_bytes()[:200])
    with pytest.raises(CheckpointError, match="truncated or corrupt"):
        train_vae(VAE(hidden=(16,), latent_dim=2), x, 2, batch_size=64, checkpoint=path)


def test_a_finished_run_called_again_trains_no_further(tmp_path):
    x = torch.rand(200, 1, 28, 28)
    model = VAE(hidden=(16,), latent_dim=2)
    first = train_vae(model, x, 2, batch_size=64, checkpoint=tmp_path / "run.pt")
    before = [p.clone() for p in model.parameters()]
    again = train_vae(model, x, 2, batch_size=64, checkpoint=tmp_path / "run.pt")
    assert again == first and all(torch.equal(a, b) for a, b in zip(before, model.parameters()))


GAN_SETUP = """
from edu_gen.gan import MLPDiscriminator, MLPGenerator
from edu_gen.gan_train import train_gan

def ring():
    g = torch.Generator().manual_seed(2)
    return torch.randn(512, 2, generator=g)

def fresh_gan():
    torch.manual_seed(0)
    return MLPGenerator(latent_dim=2, out_shape=(2,), hidden=16), MLPDiscriminator((2,), hidden=16)
"""


def test_a_gan_killed_mid_epoch_resumes_to_the_same_networks_and_history(tmp_path):
    namespace = {}
    exec(SETUP + GAN_SETUP, namespace)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        generator, discriminator = namespace["fresh_gan"]()
        history = namespace["train_gan"](generator, discriminator, namespace["ring"](), EPOCHS,
                                         batch_size=64, lr=1e-3, lr_decay=True)
    finally:
        torch.set_num_threads(threads)
    # 8 batches an epoch, D runs 3 times a batch: die in the 3rd epoch's 4th batch.
    killed = run_python("""
        import os, signal
        generator, discriminator = fresh_gan()
        calls = []
        def die(*args):
            calls.append(1)
            if len(calls) == 3 * (2 * 8 + 4):
                os.kill(os.getpid(), signal.SIGKILL)
        discriminator.register_forward_hook(die)
        train_gan(generator, discriminator, ring(), %d, batch_size=64, lr=1e-3, lr_decay=True,
                  checkpoint="gan.pt")
    """ % EPOCHS, tmp_path, GAN_SETUP)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert torch.load(tmp_path / "gan.pt", weights_only=True)["epochs_done"] == 2
    resumed = run_python("""
        torch.manual_seed(7)
        generator, discriminator = MLPGenerator(latent_dim=2, out_shape=(2,), hidden=16), MLPDiscriminator((2,), hidden=16)
        history = train_gan(generator, discriminator, ring(), %d, batch_size=64, lr=1e-3,
                            lr_decay=True, checkpoint="gan.pt")
        torch.save({"g": generator.state_dict(), "d": discriminator.state_dict(), "history": history}, "out.pt")
    """ % EPOCHS, tmp_path, GAN_SETUP)
    assert resumed.returncode == 0, resumed.stderr
    result = torch.load(tmp_path / "out.pt", weights_only=True)
    assert result["history"] == history
    for key, network in (("g", generator), ("d", discriminator)):
        for name, weight in network.state_dict().items():
            assert torch.equal(result[key][name], weight), (key, name)
    with pytest.raises(CheckpointError, match=r"loss='non-saturating', but this run has loss='minimax'"):
        namespace["train_gan"](*namespace["fresh_gan"](), namespace["ring"](), EPOCHS, batch_size=64,
                               lr=1e-3, lr_decay=True, loss="minimax", checkpoint=tmp_path / "gan.pt")


# --- a checkpoint= that cannot be continued is refused before the first step (issue 30) -------

def counting_step():
    calls = []

    def step(*args):
        calls.append(1)
        from edu_gen.vae_train import vae_step
        return vae_step(*args)
    return step, calls


def small_gan():
    from edu_gen.gan import MLPDiscriminator, MLPGenerator
    return MLPGenerator(hidden=8), MLPDiscriminator(hidden=8)


def test_a_folder_or_a_path_under_a_file_is_refused_before_training(tmp_path):
    from edu_gen.gan_train import train_gan
    folder = tmp_path / "adir"
    folder.mkdir()
    (tmp_path / "afile").write_text("not a folder")
    step, calls = counting_step()
    for path, message in ((folder, "is a folder: give a file path"),
                          (tmp_path / "afile" / "run.pt", "is a file, not a folder")):
        with pytest.raises(ValueError, match=message):
            train_vae(VAE(hidden=(8,), latent_dim=2), torch.rand(32, 1, 28, 28), 2, batch_size=8,
                      step=step, checkpoint=path)
        discriminator_calls = []
        g, d = small_gan()
        d.register_forward_hook(lambda *args: discriminator_calls.append(1))
        with pytest.raises(ValueError, match=message):
            train_gan(g, d, torch.randn(64, 2), 2, batch_size=16, checkpoint=path)
        assert discriminator_calls == []
    assert calls == [], "no step ran before the refusal"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["adir", "afile"], "no .tmp left behind"


def test_a_file_of_another_kind_is_refused_naming_what_it_is(tmp_path):
    """A saved model, or another loop's run, is not continued (nor overwritten)."""
    from edu_gen.checkpoint import save_vae
    from edu_gen.gan_train import train_gan
    x = torch.rand(32, 1, 28, 28)
    saved = save_vae(tmp_path / "vae.pt", VAE(hidden=(8,), latent_dim=2))
    before = saved.read_bytes()
    with pytest.raises(CheckpointError, match=r"train_vae cannot continue .*vae\.pt: it is a VAE "
                                              r"written by save_vae: read it with load_vae"):
        train_vae(VAE(hidden=(8,), latent_dim=2), x, 1, batch_size=8, checkpoint=saved)
    assert saved.read_bytes() == before
    vae_run, gan_run = tmp_path / "vae_run.pt", tmp_path / "gan_run.pt"
    train_vae(VAE(hidden=(8,), latent_dim=2), x, 1, batch_size=8, checkpoint=vae_run)
    train_gan(*small_gan(), torch.randn(64, 2), 1, batch_size=16, checkpoint=gan_run)
    with pytest.raises(CheckpointError, match=r"train_gan cannot continue .*: it is the checkpoint "
                                              r"of a train_vae run.*a checkpoint path of its own"):
        train_gan(*small_gan(), torch.randn(64, 2), 2, batch_size=16, checkpoint=vae_run)
    with pytest.raises(CheckpointError, match=r"train_vae cannot continue .*: it is the checkpoint "
                                              r"of a train_gan run"):
        train_vae(VAE(hidden=(8,), latent_dim=2), x, 2, batch_size=8, checkpoint=gan_run)
