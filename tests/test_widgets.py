"""edu_gen.widgets: moving a slider changes the picture, and the picture is exactly the
model's decoder mean at the slider's code (computed here from the decoder's own layers)."""
import io

import numpy as np
import pytest
import torch

from edu_gen.latent import decode_grid, interpolate_codes, latent_grid
from edu_gen.vae import VAE
from edu_gen.widgets import InterpolationExplorer, LatentExplorer


def decoder_mean(model, z, labels=None):
    """sigmoid of the decoder's logits, written out independently of VAE.decode."""
    if labels is not None:
        z = torch.cat([z, torch.nn.functional.one_hot(labels, model.n_classes).float()], -1)
    with torch.no_grad():
        return torch.sigmoid(model.decoder(z)).reshape(-1, 1, 28, 28)


def png_pixels(data):
    from PIL import Image
    return np.asarray(Image.open(io.BytesIO(data)))


@pytest.fixture
def model():
    torch.manual_seed(0)
    return VAE(hidden=(32,), latent_dim=2)


def test_moving_a_slider_changes_the_decoded_image(model):
    explorer = LatentExplorer(model)
    before, png_before = explorer.image.clone(), explorer.picture.value
    explorer.sliders[0].value = 2.0
    assert not torch.allclose(before, explorer.image)
    assert png_before != explorer.picture.value
    torch.testing.assert_close(explorer.z, torch.tensor([[2.0, 0.0]]))


def test_image_is_the_decoder_mean_at_the_sliders_code(model):
    explorer = LatentExplorer(model)
    explorer.sliders[0].value, explorer.sliders[1].value = -1.25, 0.5
    expected = decoder_mean(model, torch.tensor([[-1.25, 0.5]]))[0]
    torch.testing.assert_close(explorer.image, expected)
    shown = png_pixels(explorer.picture.value)[::4, ::4]  # the PNG is enlarged 4x
    np.testing.assert_allclose(shown, 255 * (1 - expected[0].numpy()), atol=1)


def test_sliders_over_chosen_dimensions_keep_the_rest_at_base():
    torch.manual_seed(0)
    model = VAE(hidden=(32,), latent_dim=5, n_classes=10)
    base = torch.randn(5)
    explorer = LatentExplorer(model, dims=(1, 3), base=base, label=7)
    explorer.sliders[1].value = 1.0
    z = base.clone(); z[3] = 1.0
    torch.testing.assert_close(explorer.z[0], z)
    torch.testing.assert_close(explorer.image, decoder_mean(model, z[None], torch.tensor([7]))[0])


def test_interpolation_slider_walks_between_the_two_codes(model):
    g = torch.Generator().manual_seed(1)
    x_a, x_b = torch.rand(2, 1, 1, 28, 28, generator=g)
    explorer = InterpolationExplorer(model, x_a, x_b)
    mu_a, mu_b = model.encode(x_a)[0], model.encode(x_b)[0]
    torch.testing.assert_close(explorer.image, decoder_mean(model, mu_a)[0])
    explorer.slider.value = 1.0
    torch.testing.assert_close(explorer.image, decoder_mean(model, mu_b)[0])
    explorer.slider.value = 0.5
    torch.testing.assert_close(explorer.image, decoder_mean(model, 0.5 * (mu_a + mu_b))[0])
    # the static figure is the same path
    path = interpolate_codes(model, x_a, x_b, steps=3)
    torch.testing.assert_close(path[1], explorer.image)


def test_static_grid_matches_the_widget_at_a_grid_point(model):
    grid = decode_grid(model, n=5)
    codes = latent_grid(n=5)
    assert codes[0, 0] < 0 < codes[0, 1], "top-left: small z1, large z2"
    explorer = LatentExplorer(model, step=1e-4)
    explorer.sliders[0].value, explorer.sliders[1].value = codes[7].tolist()
    torch.testing.assert_close(explorer.image, grid[7], atol=1e-3, rtol=0)


def test_bad_explorer_arguments_are_refused(model):
    with pytest.raises(ValueError, match="dims"):
        LatentExplorer(model, dims=(0, 2))
    with pytest.raises(ValueError, match="needs a label"):
        LatentExplorer(VAE(hidden=(8,), latent_dim=2, n_classes=10))
    with pytest.raises(ValueError, match="2D latent"):
        decode_grid(VAE(hidden=(8,), latent_dim=3))
    with pytest.raises(ValueError, match=r"\(N, 1, 28, 28\)"):
        InterpolationExplorer(model, torch.rand(28, 28), torch.rand(28, 28))
