from otter.test_files import test_case

OK_FORMAT = False

name = "q1"
points = 3
all_or_nothing = True

@test_case(points=None, hidden=False, 
    failure_message="rate = mean over images of KL(q(z|x) || N(0, I)) summed over latent dimensions, distortion = mean over images of -log p(x|z) summed over pixels, one code z = mu + sigma * eps per image; the usual mistakes are the distortion averaged over pixels, the KL summed over the batch and the posterior mean used as the code")
def test_rate_and_distortion(rate_and_distortion):
    import math
    import torch
    from edu_gen.vae import VAE

    def candidates(model, images, seed):
        """The oracle's (rate, distortion) from torch.distributions, and the usual mistakes'."""
        from torch.distributions import Bernoulli, Normal, kl_divergence
        with torch.no_grad():
            out = {}
            for name, x in (('binary', torch.bernoulli(images, generator=torch.Generator().manual_seed(seed))), ('grey', images)):
                torch.manual_seed(seed)
                mu, logvar = model.encode(x)
                q = Normal(mu, torch.exp(0.5 * logvar))
                z = q.sample()
                kl = kl_divergence(q, Normal(0.0, 1.0)).sum(1)
                target = x.reshape(len(x), -1)
                nll = -Bernoulli(logits=model.decode_logits(z), validate_args=False).log_prob(target).sum(1)
                nll_mu = -Bernoulli(logits=model.decode_logits(mu), validate_args=False).log_prob(target).sum(1)
                out[name] = (kl.mean().item(), nll.mean().item(), nll_mu.mean().item())
            return out

    def measure(rate_and_distortion, model, images, seed):
        """rate_and_distortion(model, images, seed), with edu_gen's evaluate and negative_elbo refusing to run."""
        import edu_gen.vae_eval
        import edu_gen.vae_train

        def refuse(*args, **kwargs):
            raise AssertionError("rate_and_distortion calls edu_gen's evaluate or negative_elbo: Question 1 asks you to compute the rate and distortion yourself, with torch")
        originals = {(edu_gen.vae_eval, 'evaluate'): edu_gen.vae_eval.evaluate, (edu_gen.vae_eval, 'negative_elbo'): edu_gen.vae_eval.negative_elbo, (edu_gen.vae_train, 'negative_elbo'): edu_gen.vae_train.negative_elbo}
        names = getattr(rate_and_distortion, '__globals__', {})
        aliased = {k: v for k, v in names.items() if any((v is f for f in originals.values()))}
        try:
            for module, name in originals:
                setattr(module, name, refuse)
            for k in aliased:
                names[k] = refuse
            return rate_and_distortion(model, images, seed=seed)
        finally:
            for (module, name), f in originals.items():
                setattr(module, name, f)
            names.update(aliased)

    def close(a, b):
        return abs(a - b) <= 0.0001 * abs(b) + 0.0001

    def judge(result, model, images, seed):
        assert result is not None, 'rate_and_distortion returned None: write its body'
        assert isinstance(result, dict) and {'rate', 'distortion'} <= set(result), 'rate_and_distortion should return a dict {"rate": ..., "distortion": ...}'
        try:
            rate, distortion = (float(result['rate']), float(result['distortion']))
        except (TypeError, ValueError, RuntimeError):
            raise AssertionError('"rate" and "distortion" should each be one number (a float, or a tensor of one element): the mean over the images')
        assert math.isfinite(rate) and math.isfinite(distortion), f'rate {rate} or distortion {distortion} is not finite'
        found = candidates(model, images, seed)
        kl, nll, nll_mu = found['binary']
        n, d, pixels = (len(images), model.latent_dim, images[0].numel())
        if not close(rate, kl):
            assert not close(rate, kl * n), f'the rate is {n} times too large: the KL is summed over the batch instead of averaged over the images'
            assert not close(rate, kl / d), f'the rate is {d} times too small: the KL is averaged over the {d} latent dimensions instead of summed'
            assert not close(rate, -kl), 'the rate has the wrong sign: KL(q || p) >= 0 is 0.5 * sum(mu^2 + sigma^2 - 1 - log sigma^2)'
            assert not close(rate, found['grey'][0]), 'the rate is that of the grey images: binarize them first, torch.bernoulli(images, generator=torch.Generator(device=images.device).manual_seed(seed))'
            raise AssertionError(f"the rate is {rate:.4f}, the oracle (torch.distributions' kl_divergence) says {kl:.4f}: KL(N(mu, sigma^2) || N(0, 1)) summed over the latent dimensions, averaged over the images, on the images binarized with the given generator")
        if not close(distortion, nll):
            assert not close(distortion, nll / pixels), f'the distortion is {pixels} times too small: -log p(x|z) is averaged over the pixels instead of summed over them'
            assert not close(distortion, nll * n), f'the distortion is {n} times too large: it is summed over the batch instead of averaged over the images'
            assert not close(distortion, nll_mu), 'the distortion is that of the posterior mean z = mu: draw one code per image, z = mu + sigma * eps with eps = torch.randn_like(mu) after torch.manual_seed(seed)'
            assert not close(distortion, -nll), 'the distortion has the wrong sign: -log p(x|z) >= 0 for binary pixels'
            assert not close(distortion, found['grey'][1]), 'the distortion is that of the grey images: binarize them first'
            raise AssertionError(f"the distortion is {distortion:.4f}, the oracle (torch.distributions' Bernoulli) says {nll:.4f}: -log p(x|z) summed over the 784 pixels with z = mu + sigma * torch.randn_like(mu) drawn right after torch.manual_seed(seed), averaged over the images")
    assert rate_and_distortion is not None, "rate_and_distortion is not defined: keep the function's name"
    torch.manual_seed(31)
    model = VAE(latent_dim=4, hidden=(32,))
    images = torch.rand(50, 1, 28, 28, generator=torch.Generator().manual_seed(32))
    judge(measure(rate_and_distortion, model, images, 0), model, images, 0)

