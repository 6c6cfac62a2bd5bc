"""edu_gen.repair: masks, noise, the two fill-in methods and the error, against hand checks."""
import pytest
import torch

from edu_gen.autoencoder import Autoencoder
from edu_gen.repair import (fill_in_clamped, fill_in_map, half_mask, masked_error,
                            salt_and_pepper)
from edu_gen.vae import VAE


def images(n=6, seed=0):
    return torch.rand(n, 1, 28, 28, generator=torch.Generator().manual_seed(seed))


def test_half_mask_hides_exactly_the_chosen_half():
    x = images(2)
    bottom = half_mask(x, "bottom")
    assert bottom[..., :14, :].eq(1).all() and bottom[..., 14:, :].eq(0).all()
    right = half_mask(x, "right")
    assert right[..., :14].eq(1).all() and right[..., 14:].eq(0).all()
    assert half_mask(x, "top").sum() == half_mask(x, "left").sum() == x.numel() / 2


def test_salt_and_pepper_corrupts_the_requested_fraction():
    x = torch.full((200, 1, 28, 28), 0.5)
    noisy, corrupted = salt_and_pepper(x, 0.2, torch.Generator().manual_seed(0))
    assert abs(corrupted.mean().item() - 0.2) < 0.01
    changed = noisy != 0.5
    assert torch.equal(changed, corrupted.bool())
    assert set(noisy[changed].unique().tolist()) == {0.0, 1.0}


def test_clamped_fill_in_keeps_known_pixels_and_is_a_fixed_point_of_a_perfect_model():
    x, known = images(), half_mask(images(), "bottom")
    identity = lambda v: v  # an "autoencoder" that reproduces its input exactly
    torch.testing.assert_close(fill_in_clamped(identity, identity, x, torch.ones_like(x)), x)
    model = Autoencoder(latent_dim=4)
    out = fill_in_clamped(model.encode, model.decode, x, known, iterations=3)
    torch.testing.assert_close(out * known, x * known)
    # one round by hand
    start = x * known
    by_hand = known * x + (1 - known) * model.decode(model.encode(start)).detach()
    torch.testing.assert_close(fill_in_clamped(model.encode, model.decode, x, known, iterations=1), by_hand)


def test_map_fill_in_recovers_a_code_the_decoder_generated():
    """Images decoded from a known z: MAP from the top half finds pixels near the truth."""
    torch.manual_seed(0)
    model = VAE(hidden=(64,), latent_dim=2)
    with torch.no_grad():
        for p in model.decoder.parameters():
            p.mul_(3)  # a decoder whose images change a lot with z
        z_true = torch.randn(8, 2) * 0.5
        x = model.decode(z_true)
    known = half_mask(x, "bottom")
    repaired, z_map = fill_in_map(model, x, known, steps=300, lr=0.05, restarts=3)
    torch.testing.assert_close(repaired * known, x * known)
    untouched = (1 - known) * 0.5 + known * x
    assert masked_error(repaired, x, 1 - known) < 0.1 * masked_error(untouched, x, 1 - known)


def test_masked_error_counts_only_masked_pixels():
    a, b = torch.zeros(2, 1, 28, 28), torch.zeros(2, 1, 28, 28)
    b[..., 14:, :] = 0.5
    b[..., :14, :] = 9.0  # outside the mask: ignored
    where = half_mask(torch.zeros(2, 1, 28, 28), "top")
    assert masked_error(b, a, where) == pytest.approx(0.25)


def test_bad_repair_input_is_refused():
    x = images()
    with pytest.raises(ValueError, match="hide"):
        half_mask(x, "middle")
    with pytest.raises(ValueError, match="only 0"):
        fill_in_clamped(lambda v: v, lambda v: v, x, torch.full_like(x, 0.5))
    with pytest.raises(ValueError, match="shape"):
        fill_in_clamped(lambda v: v, lambda v: v, x, torch.ones(6, 1, 28, 27))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        half_mask(x * 255)
    with pytest.raises(ValueError, match="fraction"):
        salt_and_pepper(x, 1.5)
