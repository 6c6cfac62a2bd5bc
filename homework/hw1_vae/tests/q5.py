from otter.test_files import test_case

OK_FORMAT = False

name = "q5"
points = 2
all_or_nothing = True

@test_case(points=None, hidden=False, 
    failure_message="VAE: encoder 784-hidden-2*latent and decoder latent-hidden-784, encode returns the two halves (mu, logvar) of the encoder output; the usual mistake is returning sigma = exp(logvar / 2) (or softplus) in place of the log-variance")
def test_vae_module(VAE):
    import torch
    from torch import nn
    assert VAE is not None, "VAE is not defined: keep the class's name"
    torch.manual_seed(51)
    model = VAE(latent_dim=3, hidden=16)
    assert isinstance(model, nn.Module), 'VAE must be an nn.Module: class VAE(nn.Module), with super().__init__() first'
    assert isinstance(getattr(model, 'encoder', None), nn.Module) and isinstance(getattr(model, 'decoder', None), nn.Module), 'VAE has no self.encoder or self.decoder: write __init__'
    count = lambda net: sum((p.numel() for p in net.parameters()))
    want_encoder, want_decoder = (784 * 16 + 16 + 16 * 6 + 6, 3 * 16 + 16 + 16 * 784 + 784)
    assert count(model.encoder) == want_encoder, f'VAE(latent_dim=3, hidden=16).encoder has {count(model.encoder)} parameters, Linear(784, 16) and Linear(16, 2 * 3) have {want_encoder} (its last layer gives mu and logvar: 2 * latent_dim outputs)'
    assert count(model.decoder) == want_decoder, f'VAE(latent_dim=3, hidden=16).decoder has {count(model.decoder)} parameters, Linear(3, 16) and Linear(16, 784) have {want_decoder}'
    assert count(model) == want_encoder + want_decoder, f'VAE(latent_dim=3, hidden=16) has {count(model)} parameters, want {want_encoder + want_decoder}: no layers beyond the encoder and the decoder'
    x = torch.rand(5, 1, 28, 28)
    out = model.encode(x)
    assert out is not None, 'encode returned None: write its body'
    assert isinstance(out, (tuple, list)) and len(out) == 2, 'encode should return two tensors, (mu, logvar)'
    mu, logvar = out
    assert mu.shape == (5, 3) and logvar.shape == (5, 3), f'mu and logvar should each be (N, latent_dim) = (5, 3), got {tuple(mu.shape)} and {tuple(logvar.shape)}'
    h = model.encoder(x.reshape(5, 784))
    assert (logvar < 0).any(), "logvar is never negative: encode returns sigma or the variance (exp, softplus); return the second half of the encoder's output itself, the log-variance"
    assert torch.allclose(mu, h[:, :3]) and torch.allclose(logvar, h[:, 3:]), "encode must return the first half of the encoder's output as mu and the second half as logvar (.chunk(2, dim=1)), unchanged"
    flat = model.encode(x.reshape(5, 784))
    assert torch.allclose(flat[0], mu) and torch.allclose(flat[1], logvar), 'encode gives other values for (N, 784) input than for (N, 1, 28, 28): flatten x with x.reshape(len(x), 784)'
    z = mu + torch.exp(0.5 * logvar) * torch.randn(5, 3)
    logits = model.decode_logits(z)
    assert logits is not None, 'decode_logits returned None: write its body'
    assert torch.is_tensor(logits) and logits.shape == (5, 784), f"decode_logits should give (N, 784) logits, got {tuple(getattr(logits, 'shape', ()))}"
    assert torch.allclose(logits, model.decoder(z)), "decode_logits must return the decoder's output itself: logits, no sigmoid"
    (logits.sum() + logvar.sum()).backward()
    for name, p in model.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, f'the parameter {name} gets no gradient from encode and decode_logits: is it used (or detached)?'

