"""edu_gen.export: a model file holds the network exactly (float32 weights, PyTorch's layout),
so a network rebuilt from it gives the model's outputs bit for bit; bad models are refused.
And edu_gen.widgets' page explorers: where the model files go and what the page loads.
(The page's JavaScript itself is tested in Chromium: tests/site/test_explorers.py.)"""
import html
import json
import re
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml
from torch import nn

from edu_gen.export import (decode_array, decoder_spec, encode_array, generator_spec, mlp_layers,
                            model_js, network, network_input, read_model, write_model)
from edu_gen.gan import DCGANGenerator, MLPDiscriminator, MLPGenerator
from edu_gen.vae import VAE
from edu_gen.widgets import (NOTE, STATIC_SOURCE, book_root, page_class_samples, page_gan_trainer,
                             page_latent_explorers)

ROOT = Path(__file__).resolve().parents[1]


def test_arrays_keep_every_float32_bit():
    values = torch.tensor([[0.1, -2.5e-30, 3.4e38], [float("inf"), -0.0, 1 / 3]])
    entry = encode_array(values)
    assert entry["shape"] == [2, 3] and entry["dtype"] == "float32"
    back = decode_array(json.loads(json.dumps(entry)))
    assert back.dtype == np.float32
    assert back.tobytes() == values.numpy().tobytes()
    # little-endian: 1.0 is 00 00 80 3f
    assert decode_array({"dtype": "float32", "shape": [1], "base64": "AACAPw=="})[0] == 1.0


def test_layers_are_pytorchs_row_major_weights():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(3, 2), nn.LeakyReLU(0.2), nn.Linear(2, 1), nn.Tanh())
    layers = mlp_layers(net)
    assert [layer["type"] for layer in layers] == ["linear", "leaky_relu", "linear", "tanh"]
    assert layers[1]["slope"] == pytest.approx(0.2)
    weight = decode_array(layers[0]["weight"])
    assert weight.shape == (2, 3)
    # y = W x + b, computed by hand from the file's numbers
    x = np.array([0.5, -1.0, 2.0], dtype=np.float64)
    first = weight.astype(np.float64) @ x + decode_array(layers[0]["bias"])
    np.testing.assert_allclose(first, net[0](torch.tensor(x, dtype=torch.float32)).detach().numpy(),
                               rtol=1e-6)


def test_a_vae_decoder_file_decodes_as_the_model(tmp_path):
    torch.manual_seed(1)
    model = VAE(hidden=(64,), latent_dim=2, n_classes=10)
    path = write_model(decoder_spec(model), "cvae-test", tmp_path)
    name, spec = read_model(path)
    assert name == "cvae-test" and spec["kind"] == "vae-decoder"
    assert (spec["latent_dim"], spec["n_classes"]) == (2, 10)
    z, y = torch.randn(5, 2), torch.tensor([0, 3, 9, 3, 7])
    rebuilt = network(spec)
    with torch.no_grad():
        torch.testing.assert_close(rebuilt(network_input(spec, z, y)).view(5, 1, 28, 28),
                                   model.decode(z, y), rtol=0, atol=0)


def test_a_generator_file_generates_as_the_generator(tmp_path):
    torch.manual_seed(2)
    generator = MLPGenerator(16, (1, 28, 28), hidden=32, layers=2, tanh=True, n_classes=10).eval()
    _, spec = read_model(write_model(generator_spec(generator), "cgan-test", tmp_path))
    assert spec["range"] == [-1.0, 1.0] and spec["layers"][-1]["type"] == "tanh"
    z, y = torch.randn(4, 16), torch.tensor([1, 2, 3, 4])
    with torch.no_grad():
        torch.testing.assert_close(network(spec)(network_input(spec, z, y)).view(4, 1, 28, 28),
                                   generator(z, y), rtol=0, atol=0)
    toy = MLPGenerator(2, (2,), hidden=8)
    assert generator_spec(toy)["range"] is None


def test_the_file_is_one_javascript_assignment():
    torch.manual_seed(3)
    text = model_js({"layers": mlp_layers(nn.Sequential(nn.Linear(2, 2)))}, "tiny")
    assert text.startswith('(window.eduGenModels = window.eduGenModels || {})["tiny"] = {')
    assert text.endswith("};\n") and text.count("\n") == 1


def test_models_that_the_page_cannot_run_are_refused(tmp_path):
    with pytest.raises(ValueError, match="conv"):
        decoder_spec(VAE(conv=True, latent_dim=2))
    with pytest.raises(ValueError, match="MLPGenerator"):
        generator_spec(DCGANGenerator(latent_dim=8, ngf=4))
    with pytest.raises(ValueError, match="cannot export a Dropout"):
        mlp_layers(nn.Sequential(nn.Linear(2, 2), nn.Dropout()))
    with pytest.raises(ValueError, match="only MLPs"):
        mlp_layers(nn.Linear(2, 2))
    with pytest.raises(ValueError, match="lower-case"):
        model_js({"layers": []}, "My Model")
    (tmp_path / "x.js").write_text("alert(1)")
    with pytest.raises(ValueError, match="not a model file"):
        read_model(tmp_path / "x.js")
    spec = decoder_spec(VAE(hidden=(8,), latent_dim=2, n_classes=10))
    with pytest.raises(ValueError, match=r"\(N, 2\)"):
        network_input(spec, torch.zeros(3, 5))
    with pytest.raises(ValueError, match="pass labels"):
        network_input(spec, torch.zeros(3, 2))


# --- edu_gen.widgets: the page explorers --------------------------------------------------

def test_the_static_source_is_the_sites_static_path():
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    assert config["sphinx"]["config"]["html_static_path"] == [STATIC_SOURCE]
    assert book_root(ROOT / "book" / "vae") == ROOT


@pytest.fixture
def book(tmp_path):
    (tmp_path / "_config.yml").write_text("title: t\n")
    (tmp_path / "_toc.yml").write_text("root: intro\n")
    (tmp_path / STATIC_SOURCE / "explorers").mkdir(parents=True)
    (tmp_path / STATIC_SOURCE / "explorers" / "explorers.js").write_text("")
    chapter = tmp_path / "book" / "vae"
    chapter.mkdir(parents=True)
    return tmp_path, chapter


def scripts(html):
    return re.findall(r'<script src="([^"]+)"></script>', html)


def test_inside_the_book_the_model_is_written_and_the_page_loads_it(book):
    root, chapter = book
    torch.manual_seed(0)
    model = VAE(hidden=(16,), latent_dim=2)
    codes, labels = torch.randn(30, 2), torch.arange(30) % 10
    explorer = page_latent_explorers(model, "vae-2d", codes, labels, start=chapter)
    assert explorer.paths == [root / STATIC_SOURCE / "models" / "vae-2d.js"]
    # the page is book/vae/<chapter>.html; the site's _static/ is two folders up
    assert scripts(explorer.html) == ["../../_static/explorers/mlp.js", "../../_static/models/vae-2d.js",
                                      "../../_static/explorers/explorers.js"]
    assert explorer.html.count(html.escape(NOTE)) == 2, "the note stays where JavaScript is off"
    assert 'data-explorer="latent-plane"' in explorer.html and 'data-explorer="interpolation"' in explorer.html
    _, spec = read_model(explorer.paths[0])
    torch.testing.assert_close(torch.from_numpy(decode_array(spec["codes"])), codes)
    assert spec["labels"] == labels.tolist()
    assert [p["index"] for p in spec["picks"]] == list(range(10)), "the first digit of each class"
    assert spec["picks"][4]["code"] == pytest.approx(codes[4].tolist())


def test_outside_the_book_only_the_note_is_shown(tmp_path):
    torch.manual_seed(0)
    explorer = page_latent_explorers(VAE(hidden=(16,), latent_dim=2), "vae-2d", torch.zeros(3, 2),
                                     torch.tensor([0, 1, 2]), start=tmp_path)
    assert explorer.paths == [] and scripts(explorer.html) == [] and html.escape(NOTE) in explorer._repr_html_()
    assert not list(tmp_path.rglob("*.js"))


def test_a_conditional_vae_gets_a_class_picker_and_no_interpolation(book):
    _, chapter = book
    explorer = page_latent_explorers(VAE(hidden=(16,), latent_dim=2, n_classes=10), "cvae",
                                     torch.zeros(10, 2), torch.arange(10), start=chapter)
    assert [c["explorer"] for c in explorer.containers] == ["latent-plane"]


def test_the_gan_trainer_has_the_live_runs_sizes(book):
    from edu_gen import toy_experiment as toy

    _, chapter = book
    trainer = page_gan_trainer(start=chapter)
    settings = trainer.containers[0]
    assert scripts(trainer.html)[1] == "../../_static/explorers/gan.js" and trainer.paths == []
    # the networks live_ring_run builds (one epoch of it, to see them)
    _, _, g, d = toy.live_ring_run(lr_decay=False, epochs=1)
    linear = [m for m in g.modules() if isinstance(m, nn.Linear)]
    assert [m.out_features for m in linear] == [settings["hidden"]] * settings["layers"] + [2]
    assert [m.out_features for m in d.modules() if isinstance(m, nn.Linear)] == \
        [settings["hidden"]] * settings["layers"] + [1]
    assert isinstance(d.net[1], nn.LeakyReLU) and d.net[1].negative_slope == 0.2
    assert (settings["lr"], settings["batch"], settings["points"], settings["epochs"]) == \
        (toy.LIVE_LR, toy.LIVE_BATCH, toy.LIVE_POINTS, toy.LIVE_EPOCHS)
    assert json.loads(settings["betas"]) == [0.5, 0.999]


def test_bad_page_explorers_are_refused(book):
    _, chapter = book
    with pytest.raises(ValueError, match="2-D code"):
        page_latent_explorers(VAE(hidden=(8,), latent_dim=3), "v", torch.zeros(2, 3), [0, 1], start=chapter)
    with pytest.raises(ValueError, match="one label each"):
        page_latent_explorers(VAE(hidden=(8,), latent_dim=2), "v", torch.zeros(4, 2), [0, 1], start=chapter)
    with pytest.raises(ValueError, match="conditional"):
        page_class_samples(MLPGenerator(2, (2,), hidden=8), "g", start=chapter)


def test_the_chapters_cells_draw_no_random_numbers(book):
    """The chapters show the explorers after their checks were calibrated: writing them and
    rebuilding a network from a file leave the global generator where it was."""
    _, chapter = book
    torch.manual_seed(5)
    model = VAE(hidden=(16,), latent_dim=2, n_classes=10)
    generator = MLPGenerator(4, (1, 28, 28), hidden=8, layers=1, tanh=True, n_classes=10)
    state = torch.get_rng_state()
    explorer = page_latent_explorers(model, "cvae", torch.zeros(10, 2), torch.arange(10), start=chapter)
    network(read_model(explorer.paths[0])[1])
    page_class_samples(generator, "cgan", start=chapter)
    page_gan_trainer(start=chapter)
    assert torch.equal(torch.get_rng_state(), state)
