"""edu_gen: the tested code behind the book *Generative Models from Scratch: VAEs and GANs*.

One concept per module, in the order the book uses them:

- ``runtime``          device, seeds (shifted by ``EDU_GEN_SEED_OFFSET``), the ``quick`` /
                       ``full`` profile, evaluations that leave the run's random state alone
- ``checks``           the chapters' check cells: a claim, its value, its bound, its margin
- ``data``             MNIST, Fashion-MNIST, 8x8 digits, 2D toy mixtures; checking images
- ``nets``             an MLP builder and one-hot labels, shared by the VAEs and the GANs
- ``train``            what every training loop shares: Adam, the learning-rate schedule,
                       the epoch's bookkeeping (sums on the device, one read an epoch)
- ``plots``            image grids and curves
- ``autoencoder``      the deterministic autoencoder of the Background chapter
- ``linear_gaussian``  a latent-variable model with an exact likelihood: the ELBO's oracle
- ``elbo``             the ELBO's pieces: Gaussian KL, reparameterization, likelihoods, IWAE
- ``vae``              the VAE model: encoder q(z|x), decoder p(x|z)
- ``vae_train``        the negative ELBO of a batch, one VAE step, the training loop
- ``vae_eval``         test negative ELBO, IWAE estimate of -log p(x), active units
- ``latent``           a VAE's latent space: grids of codes, interpolations
- ``repair``           filling in and denoising images with a trained model
- ``widgets``          interactive latent-space explorers (ipywidgets), and the website's
                       explorers that run in the page
- ``export``           trained MLPs written as files a web page runs (the website's explorers)
- ``checkpoint``       saving and loading weights safely
- ``logs``             TensorBoard logs of a run: every epoch's metrics and a sample grid
- ``gan``              generators, discriminators, spectral norm, fixed-noise snapshots
- ``gan_train``        the GAN losses from logits, the D and G steps, the training loop
- ``gan_diagnosis``    the likely cause of a NaN loss, read from the training logs
- ``modes``            the mode-collapse metric on 2D mixtures (VEEGAN, PacGAN)
- ``toy_experiment``   the mode-collapse chapter's experiment: GAN fixes on the 2D toys
- ``text_data``        the census name lists as padded character sequences, a vocabulary
- ``ngram``            a character n-gram model of names: the text chapter's baseline
- ``text_vae``         a VAE of names: GRU encoder q(z|x), GRU decoder p(x|z)
- ``text_vae_train``   its negative ELBO, step, loop (KL annealing, word dropout, free bits)
- ``text_gan``         Gumbel-max, Gumbel-softmax, a generator and discriminator of names
- ``text_eval``        judging generated names: overlap, real / new / distinct shares
- ``rejection``        discriminator rejection sampling
- ``digit_features``   the shipped digit classifier whose features the metrics use
- ``metrics``          the book's one yardstick for samples: FD, KID, precision / recall,
                       density / coverage, class balance, nearest training digit
- ``ladder``           the yardstick's validity ladder: noise, copies, blur, held-out digits
- ``compare``          the "VAE or GAN?" chapter's experiment: each model's row of the table
- ``shapes``           shapes drawn from five known factors (a small dSprites, made on the fly)
- ``disentangle``      disentanglement scores: the Mutual Information Gap, the FactorVAE score
- ``tcvae``            beta-TCVAE: the minibatch-weighted total correlation, a step for train_vae
- ``infogan``          InfoGAN's code, and Q on D's body
- ``infogan_train``    Q's loss, the bound L_I, InfoGAN's two steps on the GAN losses, the loop
- ``infogan_eval``     what InfoGAN's code means: matched accuracy, slant and width
- ``interpretable``    the "What does the code mean?" chapter's experiment: a row per model
- ``exercises``        automatic checks of the readers' own implementations
- ``homework``         trained weights that a homework notebook's output carries to the grader
- ``speech_synth``     eSpeak NG through ctypes: the synthesizer of the spoken digits
- ``sound_data``       spoken digits "zero" to "nine": made, cached, split by voice
- ``sound_features``   STFT, log-mel pictures, their inverse and Griffin-Lim
- ``sound_classifier`` the shipped spoken-digit classifier: the yardstick's ears
- ``sound_metrics``    FD, KID, precision / recall and the inception score of clips
- ``sound_display``    audio players beside spectrograms in the page
- ``fast``             speed engineering off the teaching path: compile, channels-last
"""

__version__ = "0.1.0"
