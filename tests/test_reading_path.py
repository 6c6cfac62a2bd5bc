"""The code a student reads for one training step stays short (issue 12's reading path).

A step's path is every edu_gen function that runs once more when an epoch has one more
batch: the loop (``train_vae`` / ``train_gan``), the step and the model's forward pass. It
is found by tracing a 1-step and a 2-step epoch and keeping the functions whose lines ran
more often in the second; a function's lines are its whole source, docstring included.
The goals (issue 12): the VAE in <= 2 files, 6 functions, 120 lines; the GAN in <= 2
files, 8 functions, 160 lines. Those were lines of up to 100 columns; the functions the
book prints are wrapped to its 88 (issue 32), which made the GAN's path 171 lines for the
same code, so its bound is now 175.
"""
import collections
import inspect
import sys
from pathlib import Path

import torch

import edu_gen
from edu_gen.gan import MLPDiscriminator, MLPGenerator
from edu_gen.gan_train import train_gan
from edu_gen.vae import VAE
from edu_gen.vae_train import train_vae

PACKAGE = str(Path(edu_gen.__file__).parent)


def line_counts(run):
    """How often each edu_gen function's lines ran during ``run()``, by code object."""
    counts = collections.Counter()

    def tracer(frame, event, arg):
        if not frame.f_code.co_filename.startswith(PACKAGE):
            return None                        # torch's own code is not traced line by line
        if event == "line":
            counts[frame.f_code] += 1
        return tracer

    sys.settrace(tracer)
    try:
        run()
    finally:
        sys.settrace(None)
    return counts


def step_path(train, data, batch_size):
    """{(file, function): lines of its source} for the functions that run once per step."""
    one = line_counts(lambda: train(data[:batch_size], batch_size))
    two = line_counts(lambda: train(data[:2 * batch_size], batch_size))
    # A comprehension is a code object of its own ("<listcomp>"), but its lines are its function's.
    return {(Path(code.co_filename).name, code.co_qualname): len(inspect.getsourcelines(code)[0])
            for code in two if two[code] > one[code] and not code.co_name.startswith("<")}


def test_one_vae_step_reads_in_two_files_within_six_functions_and_120_lines():
    torch.manual_seed(0)
    path = step_path(lambda x, b: train_vae(VAE(), x, epochs=1, batch_size=b),
                     torch.rand(64, 1, 28, 28), 32)
    assert {"train_vae", "vae_step", "negative_elbo", "VAE.encode", "VAE.decode_logits"} \
        <= {name for _, name in path}, path
    assert {file for file, _ in path} == {"vae_train.py", "vae.py"}, path
    assert len(path) <= 6 and sum(path.values()) <= 120, path


def test_one_gan_step_reads_in_two_files_within_eight_functions_and_175_lines():
    torch.manual_seed(0)
    path = step_path(lambda x, b: train_gan(MLPGenerator(), MLPDiscriminator(), x, 1, batch_size=b),
                     torch.randn(64, 2), 32)
    assert {"train_gan", "discriminator_step", "discriminator_loss", "generator_step",
            "generator_loss", "MLPGenerator.forward", "MLPDiscriminator.forward"} \
        <= {name for _, name in path}, path
    assert {file for file, _ in path} == {"gan_train.py", "gan.py"}, path
    assert len(path) <= 8 and sum(path.values()) <= 175, path
