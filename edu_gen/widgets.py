"""Interactive explorers of a trained VAE's latent space (ipywidgets).

Widgets need a live Python kernel: on the static website their callbacks do not run, so
every chapter that shows one also draws the same thing as a static matplotlib figure
(``decode_grid`` and ``interpolate_codes`` of ``edu_gen.latent`` compute both).

- ``LatentExplorer``: one slider per chosen latent dimension; the image is the decoder's
  mean at that code z (the other dimensions stay at ``base``, 0 by default).
- ``InterpolationExplorer``: a slider t in [0, 1] walking from one digit's code to another's.
"""
import io

import numpy as np
import torch

from .data import check_images
from .runtime import device_of


def _png(image, scale=4):
    """A (1, 28, 28) image in [0, 1] as PNG bytes, black ink on white, enlarged ``scale`` times."""
    from PIL import Image

    pixels = (255 * (1 - image.detach().float().cpu().clamp(0, 1)[0].numpy())).astype(np.uint8)
    picture = Image.fromarray(pixels).resize((28 * scale, 28 * scale), Image.NEAREST)
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    return buffer.getvalue()


def _labelled(slider, text):
    """The slider with an HTML label in front. (A slider's own ``description`` is typeset
    with MathJax 2's API by ipywidgets 8, which breaks on the book's MathJax 3 pages.)"""
    import ipywidgets as widgets

    return widgets.HBox([widgets.HTML(text, layout=widgets.Layout(width="2.5em")), slider])


class LatentExplorer:
    """Sliders over latent dimensions ``dims`` of ``model``; ``.image`` is decode(z).

        explorer = LatentExplorer(model)          # then display(explorer.widget)
        explorer.sliders[0].value = 1.5           # (or move it by hand) -> explorer.z, explorer.image
    """

    def __init__(self, model, dims=(0, 1), limit=3.0, step=0.05, base=None, label=None):
        import ipywidgets as widgets

        dims = tuple(dims)
        if not dims or min(dims) < 0 or max(dims) >= model.latent_dim:
            raise ValueError(f"dims must index the model's {model.latent_dim} latent dimensions, got {dims}")
        if limit <= 0:
            raise ValueError(f"limit must be positive, got {limit}")
        if model.n_classes and label is None:
            raise ValueError(f"this conditional VAE needs a label in 0..{model.n_classes - 1}")
        self.model, self.dims = model, dims
        device = device_of(model)
        self.base = torch.zeros(model.latent_dim, device=device) if base is None else base.to(device).clone()
        if self.base.shape != (model.latent_dim,):
            raise ValueError(f"base must have shape ({model.latent_dim},), got {tuple(self.base.shape)}")
        self.labels = None if label is None else torch.tensor([label], device=device)
        self.sliders = [widgets.FloatSlider(value=float(self.base[d]), min=-limit, max=limit, step=step,
                                            continuous_update=True)
                        for d in dims]
        self.picture = widgets.Image(format="png", width=140, height=140)
        for slider in self.sliders:
            slider.observe(self.update, names="value")
        rows = [_labelled(slider, f"z<sub>{d + 1}</sub>") for d, slider in zip(dims, self.sliders)]
        self.widget = widgets.HBox([widgets.VBox(rows), self.picture])
        self.update()

    @property
    def z(self):
        """The code the sliders point at, shape (1, latent_dim)."""
        z = self.base.clone()
        for d, slider in zip(self.dims, self.sliders):
            z[d] = slider.value
        return z.unsqueeze(0)

    def update(self, change=None):
        """Decode the sliders' code (called by the widgets whenever a slider moves)."""
        self.image = self.model.decode(self.z, self.labels)[0]
        self.picture.value = _png(self.image)

    def _ipython_display_(self):
        from IPython.display import display

        display(self.widget)


class InterpolationExplorer:
    """A slider t in [0, 1]; ``.image`` decodes (1 - t) mu_a + t mu_b (the posterior means
    of two images x_a, x_b of shape (1, 1, 28, 28))."""

    def __init__(self, model, x_a, x_b, step=0.02):
        import ipywidgets as widgets

        check_images(x_a, "x_a")
        check_images(x_b, "x_b")
        if model.n_classes:
            raise ValueError("InterpolationExplorer takes an unconditional VAE")
        device = device_of(model)
        with torch.no_grad():
            self.mu_a = model.encode(x_a[:1].to(device))[0]
            self.mu_b = model.encode(x_b[:1].to(device))[0]
        self.model = model
        self.slider = widgets.FloatSlider(value=0.0, min=0.0, max=1.0, step=step)
        self.picture = widgets.Image(format="png", width=140, height=140)
        self.slider.observe(self.update, names="value")
        self.widget = widgets.HBox([_labelled(self.slider, "t"), self.picture])
        self.update()

    @property
    def z(self):
        t = self.slider.value
        return (1 - t) * self.mu_a + t * self.mu_b

    def update(self, change=None):
        self.image = self.model.decode(self.z)[0]
        self.picture.value = _png(self.image)

    def _ipython_display_(self):
        from IPython.display import display

        display(self.widget)
