"""Trained networks written as small files a web page reads, so the book's website can run
them in JavaScript without a Python kernel (``edu_gen.widgets`` draws the explorers).

A model file is one line of JavaScript that registers the model under a name::

    (window.eduGenModels = window.eduGenModels || {})["vae-2d"] = {...};

(a ``<script>`` tag loads it, also from a page opened as a file, where a browser refuses to
``fetch`` a neighbouring file). The object is the JSON of a *spec*: what the network is
(``kind``, ``latent_dim``, ``n_classes``, ...) and its ``layers``, in order::

    {"type": "linear", "in": 2, "out": 400, "weight": W, "bias": b}
    {"type": "relu"} | {"type": "leaky_relu", "slope": 0.2} | {"type": "tanh"} | {"type": "sigmoid"}

W is row-major (out, in), PyTorch's own layout, so a layer computes y = W x + b. Every array
is float32, little-endian, in base64: ``{"dtype": "float32", "shape": [...], "base64": "..."}``.
Float32 keeps the weights exactly as trained; base64 adds a third to their 4 bytes each
(a 784-400-2 decoder, 315,584 numbers, is a 1.7 MB file).

``read_model`` turns a file back into the spec and ``network`` into a PyTorch network with
the same weights, bit for bit (the tests compare the page's outputs with it).
"""
import base64
import json
import re
from pathlib import Path

import numpy as np
import torch
from torch import nn

ACTIVATIONS = {nn.ReLU: "relu", nn.Tanh: "tanh", nn.Sigmoid: "sigmoid"}
REGISTRY = "(window.eduGenModels = window.eduGenModels || {})"
NAME = re.compile(r"^[a-z0-9][a-z0-9-]*$")


def encode_array(values):
    """A tensor or array as ``{"dtype": "float32", "shape", "base64"}`` (little-endian)."""
    array = torch.as_tensor(values).detach().cpu().to(torch.float32).numpy()
    data = np.ascontiguousarray(array, dtype="<f4").tobytes()
    return {"dtype": "float32", "shape": list(array.shape),
            "base64": base64.b64encode(data).decode("ascii")}


def decode_array(entry):
    """The float32 array of an ``encode_array`` entry."""
    if entry.get("dtype") != "float32":
        raise ValueError(f"model arrays are float32, got dtype {entry.get('dtype')!r}")
    flat = np.frombuffer(base64.b64decode(entry["base64"]), dtype="<f4")
    return flat.reshape(entry["shape"]).astype(np.float32)


def mlp_layers(net):
    """The layers of an ``nn.Sequential`` of Linear layers and activations, as spec dicts."""
    if not isinstance(net, nn.Sequential):
        raise ValueError(f"only MLPs (nn.Sequential of Linear and activations) export, got "
                         f"{type(net).__name__}: build the model without convolutions "
                         "(VAE(conv=False), MLPGenerator)")
    layers = []
    for module in net:
        if isinstance(module, nn.Linear):
            layers.append({"type": "linear", "in": module.in_features, "out": module.out_features,
                           "weight": encode_array(module.weight),
                           "bias": encode_array(module.bias if module.bias is not None
                                                else torch.zeros(module.out_features))})
        elif isinstance(module, nn.LeakyReLU):
            layers.append({"type": "leaky_relu", "slope": float(module.negative_slope)})
        elif type(module) in ACTIVATIONS:
            layers.append({"type": ACTIVATIONS[type(module)]})
        else:
            raise ValueError(f"cannot export a {type(module).__name__} layer: the page computes "
                             f"Linear, ReLU, LeakyReLU, Tanh and Sigmoid only")
    return layers


def decoder_spec(vae):
    """The spec of a VAE's decoder: z (latent_dim) [+ one-hot y] -> the mean image
    sigmoid(logits) (Eq. (bernoulli)), 28 x 28 in [0, 1], as ``vae.decode`` computes it."""
    if getattr(vae, "config", {}).get("conv"):
        raise ValueError("a convolutional VAE does not export: the page runs MLPs "
                         "(train VAE(hidden=(400,), ...) for the website)")
    return {"kind": "vae-decoder", "latent_dim": vae.latent_dim, "n_classes": vae.n_classes,
            "image": [28, 28], "range": [0, 1],
            "layers": mlp_layers(vae.decoder) + [{"type": "sigmoid"}]}


def generator_spec(generator):
    """The spec of an ``MLPGenerator``: z (latent_dim) [+ one-hot y] -> G(z, y)."""
    if not hasattr(generator, "net") or not hasattr(generator, "out_shape"):
        raise ValueError(f"only an edu_gen.gan.MLPGenerator exports, got {type(generator).__name__}")
    low, high = generator.output_range or (None, None)
    return {"kind": "generator", "latent_dim": generator.latent_dim,
            "n_classes": generator.n_classes, "out_shape": list(generator.out_shape),
            "range": None if low is None else [low, high], "layers": mlp_layers(generator.net)}


def model_js(spec, name):
    """The text of a model file registering ``spec`` as ``eduGenModels[name]``."""
    if not NAME.match(name):
        raise ValueError(f"a model name is lower-case letters, digits and '-', got {name!r}")
    return f"{REGISTRY}[{json.dumps(name)}] = {json.dumps(spec, separators=(',', ':'))};\n"


def write_model(spec, name, folder):
    """Write ``spec`` to ``folder/<name>.js``; return the path."""
    path = Path(folder) / f"{name}.js"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(model_js(spec, name), encoding="utf-8")
    return path


def read_model(path):
    """(name, spec) of a model file, its arrays decoded to float32 NumPy arrays."""
    text = Path(path).read_text(encoding="utf-8")
    match = re.fullmatch(re.escape(REGISTRY) + r'\["([a-z0-9-]+)"\] = (\{.*\});\n', text, re.S)
    if not match:
        raise ValueError(f"{path} is not a model file written by edu_gen.export.write_model")
    spec = json.loads(match.group(2))
    for layer in spec["layers"]:
        if layer["type"] == "linear":
            layer["weight"], layer["bias"] = decode_array(layer["weight"]), decode_array(layer["bias"])
    return match.group(1), spec


def network(spec):
    """The spec's layers as a PyTorch ``nn.Sequential`` (float32), weights as in the file.
    It draws no random numbers (no initialization before the copy), so a chapter can rebuild
    a network without moving the global generator its later cells read."""
    modules = []
    for layer in spec["layers"]:
        kind = layer["type"]
        if kind == "linear":
            linear = nn.utils.skip_init(nn.Linear, layer["in"], layer["out"])
            weight, bias = (torch.as_tensor(layer[k]) if not isinstance(layer[k], dict)
                            else torch.from_numpy(decode_array(layer[k])) for k in ("weight", "bias"))
            with torch.no_grad():
                linear.weight.copy_(weight)
                linear.bias.copy_(bias)
            modules.append(linear)
        elif kind == "leaky_relu":
            modules.append(nn.LeakyReLU(layer["slope"]))
        elif kind in ("relu", "tanh", "sigmoid"):
            modules.append({"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid}[kind]())
        else:
            raise ValueError(f"unknown layer type {kind!r} in the spec")
    return nn.Sequential(*modules).eval()


def network_input(spec, z, labels=None):
    """The network's input for codes z (N, latent_dim): z, with one-hot labels appended for
    a conditional model (as the VAE and the generators build it)."""
    z = torch.as_tensor(z, dtype=torch.float32)
    if z.dim() != 2 or z.shape[1] != spec["latent_dim"]:
        raise ValueError(f"codes must have shape (N, {spec['latent_dim']}), got {tuple(z.shape)}")
    if not spec["n_classes"]:
        return z
    if labels is None:
        raise ValueError(f"this model is conditional on {spec['n_classes']} classes: pass labels")
    y = nn.functional.one_hot(torch.as_tensor(labels).long(), spec["n_classes"]).float()
    return torch.cat([z, y], dim=1)
