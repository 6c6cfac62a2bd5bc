"""The plain textbook loops the benchmark compares against, written as most tutorials do.

A ``DataLoader`` over a ``TensorDataset`` kept on the CPU, each batch copied to the device,
``torch.optim.Adam`` with its defaults, and ``loss.item()`` after every step (a host
synchronisation each step on a GPU). The models and the mathematics are the same as in
``edu_gen``: the VAE loss is the negative ELBO of Eq. (elbo) with dynamic binarization, the
GAN losses are the non-saturating ones of Eq. (d-step) and Eq. (g-step).
"""
import torch
from torch import nn
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset


def make_loader(data, batch_size, drop_last=False):
    """The tutorial's data pipeline: CPU tensors, shuffled by a DataLoader."""
    return DataLoader(TensorDataset(data.cpu()), batch_size=batch_size, shuffle=True,
                      drop_last=drop_last)


def make_vae_optimizer(model, lr=1e-3):
    return torch.optim.Adam(model.parameters(), lr=lr)


def vae_epoch(model, loader, optimizer, device):
    """One epoch of the pytorch/examples VAE loop; returns the mean loss per image."""
    model.train()
    train_loss = 0.0
    for (x,) in loader:
        x = torch.bernoulli(x.to(device)).view(-1, 784)
        optimizer.zero_grad()
        mu, logvar = model.encode(x)
        std = torch.exp(0.5 * logvar)
        z = mu + std * torch.randn_like(std)
        logits = model.decode_logits(z)
        bce = F.binary_cross_entropy_with_logits(logits, x, reduction="sum")
        kld = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
        loss = (bce + kld) / len(x)
        loss.backward()
        optimizer.step()
        train_loss += loss.item() * len(x)
    return train_loss / len(loader.dataset)


def make_gan_optimizers(generator, discriminator, lr=2e-4, betas=(0.5, 0.999)):
    return (torch.optim.Adam(generator.parameters(), lr=lr, betas=betas),
            torch.optim.Adam(discriminator.parameters(), lr=lr, betas=betas))


def gan_epoch(generator, discriminator, loader, optimizers, device):
    """One epoch of the pytorch/examples DCGAN loop (logits, so BCEWithLogitsLoss)."""
    g_opt, d_opt = optimizers
    criterion = nn.BCEWithLogitsLoss()
    generator.train()
    discriminator.train()
    for (real,) in loader:
        real = real.to(device)
        n = real.size(0)
        # discriminator: real examples labelled 1, fakes labelled 0
        d_opt.zero_grad()
        output = discriminator(real)
        err_d_real = criterion(output, torch.full((n,), 1.0, device=device))
        err_d_real.backward()
        d_x = torch.sigmoid(output).mean().item()
        noise = torch.randn(n, generator.latent_dim, device=device)
        fake = generator(noise)
        output = discriminator(fake.detach())
        err_d_fake = criterion(output, torch.full((n,), 0.0, device=device))
        err_d_fake.backward()
        d_g_z1 = torch.sigmoid(output).mean().item()
        err_d = err_d_real + err_d_fake
        d_opt.step()
        # generator: the non-saturating loss, fakes labelled 1
        g_opt.zero_grad()
        output = discriminator(fake)
        err_g = criterion(output, torch.full((n,), 1.0, device=device))
        err_g.backward()
        d_g_z2 = torch.sigmoid(output).mean().item()
        g_opt.step()
        stats = (err_d.item(), err_g.item(), d_x, d_g_z1, d_g_z2)
    return stats
