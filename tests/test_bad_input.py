"""Bad input found from outside (issue 30, beyond its list): each gets a ValueError or
TypeError that says what to pass instead, before any training, where it used to train on
silently, fail after an epoch, or fail deep inside PyTorch."""
import numpy as np
import pytest
import torch

from edu_gen.autoencoder import Autoencoder
from edu_gen.checkpoint import load_gan, save_checkpoint, save_gan, save_vae
from edu_gen.data import sample_mixture
from edu_gen.gan import (DCGANDiscriminator, DCGANGenerator, MLPDiscriminator, MLPGenerator,
                         Snapshots)
from edu_gen.gan_train import train_discriminator, train_gan
from edu_gen.text_data import load_names
from edu_gen.text_eval import mean_overlap, sample_report
from edu_gen.text_vae import SequenceVAE
from edu_gen.text_vae_train import evaluate_text_vae, iwae_nll_per_char, train_text_vae
from edu_gen.train import adam
from edu_gen.vae import VAE
from edu_gen.vae_eval import active_units, binarized, evaluate, grey_fraction, iwae_nll
from edu_gen.vae_train import train_vae

X = torch.rand(16, 1, 28, 28)
RING = torch.randn(64, 2)


def vae():
    return VAE(hidden=(8,), latent_dim=2)


def gan():
    return MLPGenerator(hidden=8), MLPDiscriminator(hidden=8)


def never_called(*args):
    raise AssertionError("a step ran before the bad input was refused")


CASES = {
    "epochs=True": (lambda: train_vae(vae(), X, True), "epochs must be an integer"),
    "batch_size NumPy": (lambda: train_vae(vae(), X, 1, batch_size=np.int64(8)),
                         r"batch_size must be an integer >= 1, got np\.int64\(8\): pass int\(batch_size\)"),
    "lr a string": (lambda: train_vae(vae(), X, 1, lr="1e-3"), "learning rate must be a positive number"),
    "free_bits NaN": (lambda: train_vae(vae(), X, 1, free_bits=float("nan")), "free_bits must be a finite"),
    "kl_warmup_epochs NaN": (lambda: train_text_vae(SequenceVAE(28, latent_dim=2, hidden=8),
                                                    load_names("test").tokens[:16], 1,
                                                    kl_warmup_epochs=float("nan")), "kl_warmup_epochs"),
    "binarize a string": (lambda: train_vae(vae(), X, 1, binarize="yes"), "binarize must be True or False"),
    "float64 images": (lambda: train_vae(vae(), X.double(), 1, step=never_called),
                       r"float64 but the model computes in torch\.float32: pass images\.to"),
    "on_epoch_end not callable": (lambda: train_vae(vae(), X, 1, step=never_called, on_epoch_end=5),
                                  "on_epoch_end must be a function"),
    "betas of one number": (lambda: adam(vae().parameters(), betas=(0.5,)), "betas must be two numbers"),
    "evaluate batch_size=0": (lambda: evaluate(vae(), X, batch_size=0), "batch_size must be an integer"),
    "iwae_nll k=2.5": (lambda: iwae_nll(vae(), X, k=2.5), "k and chunk must be integers"),
    "active_units of one image": (lambda: active_units(vae(), X[:1]), "at least 2"),
    "grey_fraction low > high": (lambda: grey_fraction(X, 0.8, 0.2), "low must be below high"),
    "binarized 0..255": (lambda: binarized(X * 255), r"needs images in \[0, 1\].*divide"),
    "evaluate_text_vae batch_size=0": (lambda: evaluate_text_vae(SequenceVAE(28, latent_dim=2, hidden=8),
                                                                 load_names("test").tokens[:8], batch_size=0),
                                       "batch_size must be an integer"),
    "iwae_nll_per_char chunk=0.5": (lambda: iwae_nll_per_char(SequenceVAE(28, latent_dim=2, hidden=8),
                                                              load_names("test").tokens[:8], k=2, chunk=0.5),
                                    "k and chunk must be integers"),
    "mean_overlap of strings": (lambda: mean_overlap("abc", "abd"), "list of names"),
    "sample_report of a string": (lambda: sample_report("anna", ["a"], ["b"]), "list of names"),
    "n_critic=1.5": (lambda: train_gan(*gan(), RING, 1, n_critic=1.5, batch_size=16), "n_critic must be an integer"),
    "weight_clip=-1": (lambda: train_gan(*gan(), RING, 1, loss="wasserstein", weight_clip=-1, batch_size=16),
                       "weight_clip must be a positive number"),
    "gp_weight=-1": (lambda: train_gan(*gan(), RING, 1, loss="wgan-gp", gp_weight=-1, batch_size=16),
                     "gp_weight must be a finite number >= 0"),
    "discriminator first": (lambda: train_gan(*reversed(gan()), RING, 1, batch_size=16), "takes the generator"),
    "float64 GAN data": (lambda: train_gan(*gan(), RING.double(), 1, batch_size=16), r"data\.to\(torch\.float32\)"),
    "GAN on_epoch_end not callable": (lambda: train_gan(*gan(), RING, 1, batch_size=16, on_epoch_end="snaps"),
                                      "on_epoch_end must be a function"),
    "train_discriminator on nothing": (lambda: train_discriminator(MLPDiscriminator(hidden=8), RING[:0], RING[:0], 1),
                                       "needs real and fake examples"),
    "MLPGenerator hidden=2.5": (lambda: MLPGenerator(hidden=2.5), "hidden must be a whole number"),
    "DCGANGenerator ngf=0": (lambda: DCGANGenerator(ngf=0), "ngf must be a whole number >= 1"),
    "DCGANDiscriminator ndf=0": (lambda: DCGANDiscriminator(ndf=0), "ndf must be a whole number >= 1"),
    "Snapshots every=0": (lambda: Snapshots(MLPGenerator(hidden=8), torch.randn(4, 2), every=0), "every must be"),
    "sample_mixture n=2.5": (lambda: sample_mixture("ring", 2.5), "positive whole number"),
    "load_gan(None)": (lambda: load_gan(None), "needs the path of a file"),
}
TYPE_CASES = {
    "save_checkpoint of a number": (lambda path: save_checkpoint(path, 5), "torch.nn.Module"),
    "save_gan with the networks swapped": (lambda path: save_gan(path, *reversed(gan())),
                                           "as the generator: pass the generator first"),
    "save_vae of an object beside the weights": (lambda path: save_vae(path, vae(), note=object()),
                                                 "note=object.*cannot be saved beside the weights"),
    "save_vae of an autoencoder": (lambda path: save_vae(path, Autoencoder(latent_dim=2)), "save_checkpoint"),
}


@pytest.mark.parametrize("name", CASES)
def test_bad_input_is_a_value_error_that_says_what_to_do(name):
    call, message = CASES[name]
    with pytest.raises(ValueError, match=message):
        call()


@pytest.mark.parametrize("name", TYPE_CASES)
def test_saving_the_wrong_thing_is_refused_before_any_file_is_written(name, tmp_path):
    call, message = TYPE_CASES[name]
    with pytest.raises(TypeError, match=message):
        call(tmp_path / "m.pt")
    assert list(tmp_path.iterdir()) == []


def test_shapes_may_be_given_as_one_number():
    assert MLPGenerator(out_shape=3, hidden=8).out_shape == (3,)
    assert MLPDiscriminator(in_shape=3, hidden=8).in_shape == (3,)
    with pytest.raises(ValueError, match=r"out_shape\[1\] must be a whole number >= 1"):
        MLPGenerator(out_shape=(1, 0), hidden=8)
