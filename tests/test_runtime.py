import pytest
import torch

from edu_gen.runtime import get_device, get_profile, seed_everything


def test_profile_from_argument_and_environment(monkeypatch):
    monkeypatch.delenv("EDU_GEN_PROFILE", raising=False)
    assert get_profile() == ("full" if torch.cuda.is_available() else "quick")
    monkeypatch.setenv("EDU_GEN_PROFILE", "full")
    assert get_profile() == "full"
    assert get_profile("quick") == "quick"


def test_unknown_profile_names_the_allowed_ones():
    with pytest.raises(ValueError, match=r"'quick', 'full'"):
        get_profile("fast")


def test_device_can_be_forced(monkeypatch):
    monkeypatch.setenv("EDU_GEN_DEVICE", "cpu")
    assert get_device() == torch.device("cpu")


def test_seed_everything_repeats_random_draws():
    seed_everything(3)
    a = torch.randn(5)
    seed_everything(3)
    assert torch.equal(a, torch.randn(5))
