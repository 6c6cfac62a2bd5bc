from otter.test_files import test_case

OK_FORMAT = False

name = "q2"
points = 2
all_or_nothing = True

@test_case(points=None, hidden=False, 
    failure_message="the kept models of the sweep, measured by edu_gen: at most 15 epochs each, the rate never negative, and as beta grows the rate falls and the distortion rises (up to 1 and 2.5 nats of noise)")
def test_sweep_trained(env):
    from edu_gen.homework import kept_weights, load_weights

    def measured(kept, with_fd):
        """{beta: (rate, distortion, FD or None)} of the kept models, as edu_gen measures them."""
        import torch
        from edu_gen.data import load_mnist
        from edu_gen.metrics import evaluate_samples
        from edu_gen.vae import VAE
        from edu_gen.vae_eval import evaluate
        x_test = load_mnist('test', small=True)[0]
        out = {}
        for name in kept['models']:
            model = load_weights(VAE(hidden=(256,), latent_dim=10), kept, name).eval()
            scores = evaluate(model, x_test)
            fd = None
            if with_fd:
                samples = model.sample(500, generator=torch.Generator().manual_seed(1))
                fd = evaluate_samples(samples, x_test[500:1000])['fd']
            out[float(name)] = (scores['rate'], scores['distortion'], fd)
        return dict(sorted(out.items()))
    kept = kept_weights('q2', env.get('sweep_weights'), 'hw3_rate_distortion.ipynb')
    epochs = kept['counts'].get('epochs')
    assert isinstance(epochs, dict) and set(epochs) == set(kept['models']), 'the kept weights hold no epochs per model: end the training cell with keep_weights as given'
    for beta, n in epochs.items():
        assert isinstance(n, int) and 0 < n <= 15, f'the model of beta = {beta} was trained for {n!r} epochs: the budget is EPOCHS = 15 per model'
    betas = sorted((float(b) for b in kept['models']))
    missing = [b for b in (0.25, 0.5, 1.0, 2.0, 4.0, 8.0) if b not in betas]
    assert not missing, f'the sweep lacks beta = {missing}: keep the six values of the question'
    figures = measured(kept, with_fd=False)
    betas, rates, distortions = (list(figures), [f[0] for f in figures.values()], [f[1] for f in figures.values()])
    assert min(rates) >= 0, f'a rate is negative ({min(rates):.2f}): the KL is never negative'
    for b1, b2, r1, r2 in zip(betas, betas[1:], rates, rates[1:]):
        assert r2 <= r1 + 1.0, f'the rate rises from {r1:.2f} at beta = {b1} to {r2:.2f} at beta = {b2}: a larger beta charges more per nat of rate, so the rate must fall (models kept under the wrong beta?)'
    for b1, b2, d1, d2 in zip(betas, betas[1:], distortions, distortions[1:]):
        assert d2 >= d1 - 2.5, f'the distortion falls from {d1:.2f} at beta = {b1} to {d2:.2f} at beta = {b2}: a larger beta buys a lower rate with a higher distortion (models kept under the wrong beta?)'

