import os
import stat
from pathlib import Path

import pytest
import torch

from edu_gen.autoencoder import Autoencoder
from edu_gen.checkpoint import (CheckpointError, load_checkpoint, load_gan, load_vae,
                                save_checkpoint, save_gan, save_vae)
from edu_gen.gan import DCGANDiscriminator, DCGANGenerator, MLPDiscriminator, MLPGenerator
from edu_gen.gan_train import train_gan
from edu_gen.vae import VAE
from edu_gen.vae_train import train_vae


def test_round_trip_keeps_weights_and_extras(tmp_path):
    model = Autoencoder(latent_dim=3)
    path = save_checkpoint(tmp_path / "ae.pt", model, epochs=5, history={"loss": [1.0, 0.5]})
    other = Autoencoder(latent_dim=3)
    extra = load_checkpoint(path, other)
    assert extra == {"epochs": 5, "history": {"loss": [1.0, 0.5]}}
    for a, b in zip(model.parameters(), other.parameters()):
        assert torch.equal(a, b)
    assert not (tmp_path / "ae.pt.tmp").exists()


def test_corrupt_missing_and_mismatched_checkpoints_say_what_to_do(tmp_path):
    model = Autoencoder(latent_dim=3)
    with pytest.raises(CheckpointError, match="train the model first"):
        load_checkpoint(tmp_path / "none.pt", model)
    path = save_checkpoint(tmp_path / "ae.pt", model)
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(CheckpointError, match="truncated or corrupt"):
        load_checkpoint(path, model)
    save_checkpoint(path, model)
    with pytest.raises(CheckpointError, match="different architecture"):
        load_checkpoint(path, Autoencoder(latent_dim=4))


class PlantsAFile:
    """A pickled payload that, if unpickled with weights_only=False, creates a file: code run
    by merely loading a checkpoint."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return open, (self.marker, "w")


def test_checkpoint_refuses_pickled_code(tmp_path):
    # The weights are valid, so only weights_only=True stands between the file and the code:
    # with torch.load(weights_only=False) the marker file appears and no error is raised.
    # Every reader is tried, resume_training (train_vae's checkpoint=) included (issue 30).
    marker = tmp_path / "code_ran"
    path = tmp_path / "evil.pt"
    model = Autoencoder(latent_dim=3)
    torch.save({"model": model.state_dict(), "payload": PlantsAFile(marker)}, path)
    with pytest.raises(CheckpointError, match="could run code"):
        load_checkpoint(path, Autoencoder(latent_dim=3))
    vae = VAE(latent_dim=2)
    torch.save({"model": vae.state_dict(), "config": vae.config, "payload": PlantsAFile(marker)}, path)
    with pytest.raises(CheckpointError, match="could run code"):
        load_vae(path)
    torch.save({"gan": {}, "payload": PlantsAFile(marker)}, path)
    with pytest.raises(CheckpointError, match="could run code"):
        load_gan(path)
    assert not marker.exists(), "loading a checkpoint ran code hidden in it"
    run = tmp_path / "run.pt"
    train_vae(VAE(hidden=(8,), latent_dim=2), torch.rand(16, 1, 28, 28), 1, batch_size=8,
              checkpoint=run)
    state = torch.load(run, weights_only=True)
    state["payload"] = PlantsAFile(marker)
    torch.save(state, run)
    with pytest.raises(CheckpointError, match="could run code"):
        train_vae(VAE(hidden=(8,), latent_dim=2), torch.rand(16, 1, 28, 28), 2, batch_size=8,
                  checkpoint=run)
    assert not marker.exists(), "resuming a run ran code hidden in its checkpoint"


def test_a_vae_round_trip_rebuilds_the_model(tmp_path):
    model = VAE(hidden=(32,), latent_dim=3, n_classes=10)
    path = save_vae(tmp_path / "vae.pt", model, epochs=2)
    assert torch.load(path, weights_only=True)["epochs"] == 2
    loaded, extra = load_vae(path)
    z, y = torch.randn(4, 3), torch.arange(4)
    torch.testing.assert_close(loaded.decode(z, y), model.decode(z, y))
    assert extra["config"]["n_classes"] == 10


def test_a_corrupt_or_missing_vae_checkpoint_says_what_to_do(tmp_path):
    path = save_vae(tmp_path / "vae.pt", VAE(hidden=(8,), latent_dim=2))
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(CheckpointError, match="corrupt"):
        load_vae(path)
    with pytest.raises(CheckpointError, match="no checkpoint"):
        load_vae(tmp_path / "missing.pt")


GANS = {
    "mlp, spectral norm, PacGAN": lambda: (
        MLPGenerator(latent_dim=3, hidden=16), MLPDiscriminator(hidden=16, pack=2, spectral_norm=True)),
    "dcgan, conditional": lambda: (
        DCGANGenerator(latent_dim=8, ngf=4, n_classes=10), DCGANDiscriminator(ndf=4, n_classes=10)),
    "dcgan critic without batch norm": lambda: (
        DCGANGenerator(latent_dim=8, ngf=4), DCGANDiscriminator(ndf=4, batch_norm=False)),
}


@pytest.mark.parametrize("kind", GANS)
def test_a_gan_round_trip_rebuilds_both_networks(tmp_path, kind):
    torch.manual_seed(0)
    generator, discriminator = GANS[kind]()
    conditional = generator.n_classes > 0
    data = torch.randn(64, 2) if isinstance(generator, MLPGenerator) else torch.rand(64, 1, 28, 28) * 2 - 1
    labels = torch.arange(64) % 10 if conditional else None
    train_gan(generator, discriminator, data, 1, batch_size=16, labels=labels)  # batch norm stats move
    path = save_gan(tmp_path / "gan.pt", generator, discriminator, epochs=1)
    loaded_g, loaded_d, extra = load_gan(path)
    assert extra == {"epochs": 1} and not loaded_g.training and not loaded_d.training
    z, y = generator.sample_noise(8), (torch.arange(8) if conditional else None)
    torch.testing.assert_close(loaded_g(z, y), generator(z, y), rtol=0, atol=0)
    x = data[:8]
    torch.testing.assert_close(loaded_d(x, y), discriminator(x, y), rtol=0, atol=0)


def test_a_corrupt_missing_or_unknown_gan_checkpoint_says_what_to_do(tmp_path):
    path = save_gan(tmp_path / "gan.pt", MLPGenerator(hidden=8), MLPDiscriminator(hidden=8))
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(CheckpointError, match="corrupt"):
        load_gan(path)
    with pytest.raises(CheckpointError, match="no checkpoint"):
        load_gan(tmp_path / "missing.pt")
    with pytest.raises(TypeError, match="save_checkpoint"):
        save_gan(tmp_path / "other.pt", torch.nn.Linear(2, 2), MLPDiscriminator(hidden=8))


# --- the atomic write (issue 30) ---------------------------------------------------------------

def failing_save(obj, file, *args, **kwargs):
    """A torch.save cut short: half a file written, then the process 'dies'."""
    target = open(file, "wb") if isinstance(file, (str, Path)) else file
    target.write(b"PK\x03\x04 half a checkpoint")
    target.flush()
    raise KeyboardInterrupt("killed in the middle of the save")


def test_a_save_cut_short_keeps_the_previous_file_whole(tmp_path, monkeypatch):
    model = VAE(hidden=(8,), latent_dim=2)
    path = save_vae(tmp_path / "vae.pt", model, epochs=1)
    before = path.read_bytes()
    monkeypatch.setattr(torch, "save", failing_save)
    with pytest.raises(KeyboardInterrupt):
        save_vae(path, VAE(hidden=(8,), latent_dim=2), epochs=2)
    monkeypatch.undo()
    assert path.read_bytes() == before, "the old checkpoint was overwritten in place"
    assert load_vae(path)[1]["epochs"] == 1
    assert list(tmp_path.iterdir()) == [path], "the temporary file is cleaned up"


def test_the_new_file_reaches_the_disk_before_it_replaces_the_old(tmp_path, monkeypatch):
    """os.fsync of the temporary file, then os.replace onto the path, then (POSIX) an fsync of
    the folder: what lets a save survive a power cut (the module's docstring says so)."""
    events = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd):
        events.append(("fsync", "folder" if stat.S_ISDIR(os.fstat(fd).st_mode) else "file"))
        real_fsync(fd)

    def replace(src, dst):
        events.append(("replace", Path(src).name, Path(dst).name))
        real_replace(src, dst)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    save_checkpoint(tmp_path / "ae.pt", Autoencoder(latent_dim=3))
    expected = [("fsync", "file"), ("replace", "ae.pt.tmp", "ae.pt")]
    assert events == expected + ([("fsync", "folder")] if os.name == "posix" else [])


# --- a file given to the wrong reader says what it is (issue 30) -------------------------------

@pytest.fixture
def files(tmp_path):
    """One file of each kind edu_gen writes, and a torch file it did not write."""
    vae = VAE(hidden=(8,), latent_dim=2)
    paths = {"weights": save_checkpoint(tmp_path / "ae.pt", Autoencoder(latent_dim=3)),
             "vae": save_vae(tmp_path / "vae.pt", vae),
             "gan": save_gan(tmp_path / "gan.pt", MLPGenerator(hidden=8), MLPDiscriminator(hidden=8)),
             "run": tmp_path / "run.pt", "foreign": tmp_path / "foreign.pt"}
    train_vae(vae, torch.rand(16, 1, 28, 28), 1, batch_size=8, checkpoint=paths["run"])
    torch.save({"x": torch.ones(2)}, paths["foreign"])
    return paths


@pytest.mark.parametrize("reader, kind, message", [
    ("load_vae", "gan", r"load_vae cannot read .*gan\.pt: it is a GAN written by save_gan: read it with load_gan\(path\)"),
    ("load_vae", "run", r"it is the checkpoint of a train_vae run: continue it with the same train_vae call"),
    ("load_vae", "weights", r"written by save_checkpoint: read them with load_checkpoint\(path, model\)"),
    ("load_vae", "foreign", r"not a file written by edu_gen\.checkpoint"),
    ("load_gan", "vae", r"load_gan cannot read .*vae\.pt: it is a VAE written by save_vae: read it with load_vae\(path\)"),
    ("load_gan", "run", r"the checkpoint of a train_vae run"),
    ("load_checkpoint", "gan", r"load_checkpoint cannot read .*: it is a GAN written by save_gan"),
    ("load_checkpoint", "run", r"the checkpoint of a train_vae run"),
])
def test_a_file_given_to_the_wrong_reader_says_what_it_is_and_who_reads_it(files, reader, kind, message):
    read = {"load_vae": load_vae, "load_gan": load_gan,
            "load_checkpoint": lambda path: load_checkpoint(path, Autoencoder(latent_dim=3))}[reader]
    with pytest.raises(CheckpointError, match=message) as error:
        read(files[kind])
    assert "corrupt" not in str(error.value) and "delete" not in str(error.value)


def test_a_save_vae_file_is_still_read_by_load_checkpoint(files):
    model = VAE(hidden=(8,), latent_dim=2)
    assert "config" in load_checkpoint(files["vae"], model)


def test_save_vae_of_another_model_names_the_right_saver(tmp_path):
    with pytest.raises(TypeError, match="save_gan"):
        save_vae(tmp_path / "g.pt", MLPGenerator(hidden=8))
    with pytest.raises(TypeError, match="save_checkpoint"):
        save_vae(tmp_path / "ae.pt", Autoencoder(latent_dim=3))


@pytest.mark.parametrize("save", [
    lambda path: save_vae(path, VAE(hidden=(8,), latent_dim=2)),
    lambda path: save_checkpoint(path, Autoencoder(latent_dim=3)),
    lambda path: save_gan(path, MLPGenerator(hidden=8), MLPDiscriminator(hidden=8)),
])
def test_saving_to_a_folder_or_under_a_file_is_refused_and_leaves_nothing(tmp_path, save):
    folder = tmp_path / "adir"
    folder.mkdir()
    with pytest.raises(ValueError, match=r"is a folder: give a file path .*adir/run\.pt"):
        save(folder)
    (tmp_path / "afile").write_text("x")
    with pytest.raises(ValueError, match=r"'.*afile' is a file, not a folder"):
        save(tmp_path / "afile" / "sub" / "m.pt")
    with pytest.raises(ValueError, match="file name such as 'run.pt'"):
        save(None)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["adir", "afile"]
    assert list(folder.iterdir()) == []
