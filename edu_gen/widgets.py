"""Interactive explorers of a trained VAE's latent space (ipywidgets).

Widgets need a live Python kernel: on the static website their callbacks do not run, so
every chapter that shows one also draws the same thing as a static matplotlib figure
(``decode_grid`` and ``interpolate_codes`` of ``edu_gen.latent`` compute both).

- ``LatentExplorer``: one slider per chosen latent dimension; the image is the decoder's
  mean at that code z (the other dimensions stay at ``base``, 0 by default).
- ``InterpolationExplorer``: a slider t in [0, 1] walking from one digit's code to another's.

On the book's website the same explorers run in the page, in JavaScript, on the trained
networks that ``edu_gen.export`` writes next to the page: ``page_latent_explorers`` (the
latent plane of a 2-D VAE, with a class picker for a conditional one, and an
interpolation), ``page_class_samples`` (a conditional generator, class by class) and
``page_gan_trainer`` (the ring GAN of the mode-collapse chapter, trained in the page). In
Jupyter or Colab these show a one-line note where the website shows the explorer.
"""
import html
import io
import json
import os
from pathlib import Path

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


# --- the website's explorers (JavaScript in the page; book/_vendor/explorers) -------------------

# Where the site's static files come from, relative to the book's root: html_static_path of
# _config.yml (a test checks they agree). Sphinx copies it into the site's _static/ after
# executing the notebooks, so a model file written here during the build is on the site.
STATIC_SOURCE = "book/_vendor"
NOTE = ("On the book's website an explorer computed in the page appears here (it needs "
        "JavaScript); the static figures above show the same thing.")


def book_root(start=None):
    """The book's root folder (with ``_config.yml``, ``_toc.yml`` and the site's static
    files) above ``start`` (default: the working folder, the notebook's when the book is
    built), or None outside the book (Colab, an installed package)."""
    here = Path(start or os.getcwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "_config.yml").is_file() and (folder / "_toc.yml").is_file() \
                and (folder / STATIC_SOURCE / "explorers" / "explorers.js").is_file():
            return folder
    return None


class PageExplorer:
    """HTML that the website runs: explorer containers (``<div class="edu-gen-explorer">``
    with ``data-*`` settings), the note shown without JavaScript, and the scripts.
    ``models``: {name: spec} written to the site's ``_static/models/`` (``.paths``)."""

    def __init__(self, containers, models=(), scripts=("mlp.js", "explorers.js"), start=None):
        root = book_root(start)
        self.paths, self.containers = [], containers
        parts = [f'<div class="edu-gen-explorer" {self._attributes(data)}>'
                 f'<p class="edu-gen-note">{html.escape(NOTE)}</p></div>' for data in containers]
        if root is not None:          # inside the book: write the models, load the scripts
            from .export import write_model

            folder = root / STATIC_SOURCE / "models"
            self.paths = [write_model(spec, name, folder) for name, spec in dict(models).items()]
            static = Path(os.path.relpath(root, Path(start or os.getcwd()).resolve())).as_posix()
            static = f"{static}/_static/"
            sources = [f"explorers/{scripts[0]}", *[f"models/{name}.js" for name in dict(models)],
                       *[f"explorers/{s}" for s in scripts[1:]]]
            parts.insert(0, f'<link rel="stylesheet" href="{static}explorers/explorers.css">')
            parts += [f'<script src="{static}{source}"></script>' for source in sources]
        self.html = "\n".join(parts)

    @staticmethod
    def _attributes(data):
        return " ".join(f'data-{key.replace("_", "-")}="{html.escape(str(value))}"'
                        for key, value in data.items())

    def _repr_html_(self):
        return self.html

    def __repr__(self):
        return f"PageExplorer({[c['explorer'] for c in self.containers]}; {NOTE})"


def page_latent_explorers(model, name, codes, labels, limit=2.5, start=None):
    """The website's explorers of a VAE with a 2-D code: the latent plane (click, drag or
    slide to a code; the image is ``model.decode`` there; a class picker when the VAE is
    conditional) and, for an unconditional VAE, an interpolation between the codes of two
    test digits (one per class, the first of each in ``codes``). ``codes`` (N, 2) are
    posterior means of test digits, drawn as dots coloured by ``labels`` (N,)."""
    from .export import decoder_spec, encode_array

    if model.latent_dim != 2:
        raise ValueError(f"the latent plane needs a 2-D code, this VAE has {model.latent_dim}: "
                         "explore the 2-D model")
    codes = torch.as_tensor(codes).detach().float().cpu()
    labels = [int(y) for y in torch.as_tensor(labels).cpu()]
    if codes.shape != (len(labels), 2):
        raise ValueError(f"codes must be (N, 2) with one label each, got codes "
                         f"{tuple(codes.shape)} and {len(labels)} labels")
    spec = decoder_spec(model)
    firsts = sorted({y: i for i, y in reversed(list(enumerate(labels)))}.items())
    spec.update(codes=encode_array(codes), labels=labels,
                picks=[{"index": i, "label": y, "code": codes[i].tolist()} for y, i in firsts])
    containers = [dict(explorer="latent-plane", model=name, limit=limit)]
    if not model.n_classes and len(firsts) >= 2:
        containers.append(dict(explorer="interpolation", model=name, limit=limit + 0.5))
    return PageExplorer(containers, {name: spec}, start=start)


def page_class_samples(generator, name, count=8, start=None):
    """The website's explorer of a conditional ``MLPGenerator``: G(z, y) of ``count`` noise
    vectors for the class y picked (and a button for new noise)."""
    from .export import generator_spec

    if not generator.n_classes:
        raise ValueError("page_class_samples shows a conditional generator (n_classes=10)")
    return PageExplorer([dict(explorer="class-samples", model=name, count=count)],
                        {name: generator_spec(generator)}, start=start)


def page_gan_trainer(start=None, **sizes):
    """The website's GAN trained in the page: the ring run of the mode-collapse chapter
    (``edu_gen.toy_experiment.live_ring_run``: 3 hidden layers each, ``train_gan``'s Adam
    betas), its sizes taken from the package; the metric counts the modes of G(z) for
    ``LIVE_SNAPSHOTS`` fixed noise vectors, as the chapter's snapshots do."""
    import inspect

    from . import toy_experiment as toy
    from .gan_train import train_gan

    betas = inspect.signature(train_gan).parameters["betas"].default
    settings = dict(explorer="gan-trainer", hidden=toy.LIVE_HIDDEN, layers=3, lr=toy.LIVE_LR,
                    batch=toy.LIVE_BATCH, points=toy.LIVE_POINTS, epochs=toy.LIVE_EPOCHS,
                    betas=json.dumps(list(betas)), eval_samples=toy.LIVE_SNAPSHOTS)
    settings.update(sizes)
    return PageExplorer([settings], scripts=("mlp.js", "gan.js", "explorers.js"), start=start)
