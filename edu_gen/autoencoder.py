"""A deterministic autoencoder: the Background chapter's starting point.

It compresses a 28x28 image to a code ``z = encoder(x)`` and decodes it back, trained to
reconstruct (Bernoulli log-loss summed over pixels). Nothing makes the codes of different
images fill a known region, which is why decoding *random* codes fails (the chapter shows
it) and why the VAE adds a prior and an encoder distribution.
"""
import torch
from torch import nn
import torch.nn.functional as F
from tqdm.auto import tqdm

from .data import check_images
from .runtime import device_of
from .train import adam, check_training, epoch_means, record_epoch


class Autoencoder(nn.Module):
    """MLP autoencoder 784 -> hidden -> latent -> hidden -> 784 (the decoder gives logits)."""

    def __init__(self, latent_dim=2, hidden=400):
        super().__init__()
        if latent_dim < 1:
            raise ValueError(f"latent_dim must be at least 1, got {latent_dim}")
        self.latent_dim = latent_dim
        self.encoder = nn.Sequential(nn.Flatten(), nn.Linear(784, hidden), nn.ReLU(),
                                     nn.Linear(hidden, latent_dim))
        self.decoder = nn.Sequential(nn.Linear(latent_dim, hidden), nn.ReLU(),
                                     nn.Linear(hidden, 784), nn.Unflatten(1, (1, 28, 28)))

    def encode(self, x):
        return self.encoder(x)

    def decode(self, z):
        """Images in [0, 1] for codes ``z`` of shape (N, latent_dim)."""
        return torch.sigmoid(self.decoder(z))

    def forward(self, x):
        return self.decoder(self.encoder(x))  # logits


def reconstruction_loss(model, x):
    """Binary cross-entropy summed over the 784 pixels, averaged over the batch (nats)."""
    logits = model(x)
    return F.binary_cross_entropy_with_logits(logits, x, reduction="sum") / len(x)


def autoencoder_step(model, optimizer, x):
    """One Adam step on the reconstruction loss of the batch ``x``."""
    loss = reconstruction_loss(model, x)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    return {"loss": loss.detach()}


def train_autoencoder(model, images, epochs=10, lr=1e-3, batch_size=128):
    """Train with Adam on ``images`` (N, 1, 28, 28) in [0, 1]; return the loss history."""
    check_images(images)
    check_training(epochs, batch_size)
    device = device_of(model)
    images = images.to(device)
    optimizer = adam(model.parameters(), lr)
    history = {}
    model.train()
    bar = tqdm(range(epochs), desc="autoencoder")
    for epoch in bar:
        steps = []
        for rows in torch.randperm(len(images), device=device).split(batch_size):
            steps.append(autoencoder_step(model, optimizer, images[rows]))
        record_epoch(history, epoch_means(steps), epoch, bar=bar)
    model.eval()
    return history
