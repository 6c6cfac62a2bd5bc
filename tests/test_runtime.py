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


def test_seed_offset_shifts_every_seed_set_through_the_runtime(monkeypatch):
    from edu_gen.runtime import generator

    seed_everything(5)
    plain, plain_gen = torch.rand(3), torch.rand(3, generator=generator(5))
    monkeypatch.setenv("EDU_GEN_SEED_OFFSET", "2")
    assert seed_everything(3) == 5
    torch.testing.assert_close(torch.rand(3), plain)
    torch.testing.assert_close(torch.rand(3, generator=generator(3)), plain_gen)
    monkeypatch.setenv("EDU_GEN_SEED_OFFSET", "0")
    assert seed_everything(3) == 3


@pytest.mark.parametrize("bad", ["one", "-1", "1.5"])
def test_a_bad_seed_offset_says_what_to_set(monkeypatch, bad):
    monkeypatch.setenv("EDU_GEN_SEED_OFFSET", bad)
    with pytest.raises(ValueError, match="EDU_GEN_SEED_OFFSET"):
        seed_everything(0)
