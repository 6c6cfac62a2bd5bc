"""Why did GAN training break? The message ``train_gan`` gives when a loss becomes NaN.

It reads the networks' weights and the epoch logs (losses, D(x), D(G(z)), gradient norms)
and names the likely cause in one sentence, with a remedy.
"""
import torch

GAN_DIVERGED_HINT = (
    "Usual GAN causes: learning rates too high for the discriminator, a Wasserstein critic "
    "left unconstrained (use weight_clip, loss='wgan-gp' or spectral_norm=True), images "
    "outside the generator's range (tanh gives [-1, 1]: scale the data with 2x - 1), or "
    "NaN in the data."
)
RUNAWAY = 1e3   # a gradient norm or critic value this large means the steps blew up


def divergence_cause(history, generator, discriminator, critic, lr):
    """The message of a NaN or infinite GAN loss: one sentence naming its likely cause, read
    from the weights and from ``train_gan``'s logs (``history``: the broken epoch last), a
    remedy, then the usual causes (``GAN_DIVERGED_HINT``).
    ``critic``: D is a Wasserstein critic (raw values), not a probability."""
    epochs = [dict(zip(history, values)) for values in zip(*history.values())]
    broken, good = epochs[-1], epochs[:-1]
    causes = [f"the {name}'s weights are NaN or infinite"
              for name, net in (("discriminator", discriminator), ("generator", generator))
              if not all(torch.isfinite(p).all() for p in net.parameters())]
    if critic:
        scale = max(abs(broken["d_real"]), abs(broken["d_fake"]))
        if scale > RUNAWAY:       # NaN compares False: only a real runaway counts
            causes.append(f"the critic's values ran away (f(x) = {broken['d_real']:.3g}, "
                          f"f(G(z)) = {broken['d_fake']:.3g}): it is not kept Lipschitz")
    for name, key in (("discriminator", "d_grad_norm"), ("generator", "g_grad_norm")):
        if broken[key] > RUNAWAY:
            start = f" (epoch 1: {good[0][key]:.3g})" if good else ""
            causes.append(f"the {name}'s gradient norm reached {broken[key]:.3g}{start}")
    if not critic and good and good[-1]["d_real"] > 0.99 \
            and good[-1]["d_fake"] < 0.01:
        causes.append(f"D won outright (D(x) = {good[-1]['d_real']:.3f}, D(G(z)) = "
                      f"{good[-1]['d_fake']:.3f}) and its logits grew without bound")
    if not good:
        remedy = (f"It broke in the first epoch: lr={lr:g} may be too high for these "
                  "networks (try 10 times lower; DCGAN uses 2e-4), or they started broken.")
    else:
        remedy = (f"It broke after {len(good)} good epochs: lower lr (now {lr:g}), or "
                  "constrain D (spectral_norm=True, loss='wgan-gp'), or pass lr_decay=True.")
    if not causes:
        return f"{remedy} {GAN_DIVERGED_HINT}"
    return f"Likely cause: {'; '.join(causes)}. {remedy} {GAN_DIVERGED_HINT}"

