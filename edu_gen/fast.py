"""Speed engineering, kept off the teaching path: compiled steps and networks, and the
channels-last memory layout. None of it changes the mathematics of a step; the book's
chapters do not use it, ``make bench`` and readers with a GPU do:

    from edu_gen.fast import channels_last, compiled, compile_network
    channels_last(vae)                                   # convolutions stored N, H, W, C
    train_vae(vae, images, epochs, step=compiled(vae_step))
    compile_network(generator), compile_network(discriminator)
    train_gan(generator, discriminator, data, epochs)

Where compiling is impossible (no C++ compiler or triton, an unsupported Python or
Windows, an old PyTorch) a warning is printed once and the code runs uncompiled: the
results are the same, only slower.
"""
import functools
import warnings

import torch


def channels_last(*models):
    """Store the convolution weights of ``models`` channels-last (N, H, W, C in memory): the
    layout that the CPU's oneDNN and the GPU's cuDNN convolve fastest. The values, and so
    the function each network computes, do not change; MLPs are left as they are."""
    for model in models:
        model.to(memory_format=torch.channels_last)
    return models[0] if len(models) == 1 else models


def _is_compile_error(error):
    """Errors of the compiler itself (dynamo, inductor, triton, a missing C++ compiler)."""
    module = type(error).__module__ or ""
    return module.startswith(("torch._dynamo", "torch._inductor", "triton"))


def compiled(fn, mode=None):
    """``torch.compile(fn)``, falling back to ``fn`` (with one warning) where it cannot.

    ``mode`` defaults to "reduce-overhead" when CUDA is present (the compiled graphs are
    replayed as CUDA graphs: one launch instead of hundreds) and to the default mode
    elsewhere. A CUDA graph writes its outputs into the same memory at every replay, so in
    that mode the outputs (a tensor, or the tensors of a dict such as a step's metrics) are
    returned as copies, which the trainers can keep for the whole epoch. A compile error seen
    mid-run re-runs that call uncompiled; a mistake in ``fn`` itself raises its own error.
    """
    if mode is None:
        mode = "reduce-overhead" if torch.cuda.is_available() else "default"
    try:
        compiled_fn = torch.compile(fn, mode=mode)
    except Exception as error:  # torch < 2.0, Python too new for dynamo, Windows
        warnings.warn(f"torch.compile is unavailable here ({error}); running uncompiled")
        return fn
    use_compiled = True

    @functools.wraps(fn, updated=())
    def run(*args, **kwargs):
        nonlocal use_compiled
        if use_compiled:
            try:
                output = compiled_fn(*args, **kwargs)
                return copied(output) if mode == "reduce-overhead" else output
            except Exception as error:
                if not _is_compile_error(error):
                    raise
                failure = f"{type(error).__name__}: {str(error)[:300]}"
            result = fn(*args, **kwargs)  # a mistake in fn itself raises here, uncompiled
            use_compiled = False
            warnings.warn(f"torch.compile failed ({failure}); running uncompiled from now on")
            return result
        return fn(*args, **kwargs)

    return run


def copied(output):
    """``output`` with each tensor (alone or in a dict) cloned out of the memory that the
    next replay of a CUDA graph overwrites."""
    if isinstance(output, torch.Tensor):
        return output.clone()
    if isinstance(output, dict):
        return {name: copied(value) for name, value in output.items()}
    return output


def compile_network(network):
    """Compile ``network``'s forward pass in place (the module, its parameters and its
    attributes stay the same object) in the default mode: fused kernels, no CUDA graphs,
    since a GAN calls its discriminator twice in a step and keeps both outputs."""
    network.forward = compiled(network.forward, mode="default")
    return network
