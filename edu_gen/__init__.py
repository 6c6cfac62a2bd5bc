"""edu_gen: the tested code behind the book *Generative Models from Scratch: VAEs and GANs*.

One concept per module:

- ``runtime``      device, seeds, the ``quick`` / ``full`` profile
- ``data``         MNIST, Fashion-MNIST, 8x8 digits, 2D toy mixtures, on-device batches
- ``train``        the one small training loop every chapter reuses
- ``autoencoder``  the deterministic autoencoder of the Background chapter
- ``plots``        image grids and curves
"""

__version__ = "0.1.0"
