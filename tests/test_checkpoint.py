import pytest
import torch

from edu_gen.autoencoder import Autoencoder
from edu_gen.checkpoint import CheckpointError, load_checkpoint, save_checkpoint


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


def test_checkpoint_refuses_pickled_code(tmp_path):
    path = tmp_path / "evil.pt"
    torch.save({"model": {}, "payload": object()}, path)
    with pytest.raises(CheckpointError):
        load_checkpoint(path, Autoencoder())
