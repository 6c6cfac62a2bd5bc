from otter.test_files import test_case

OK_FORMAT = False

name = "q3"
points = 1
all_or_nothing = True

@test_case(points=None, hidden=False, 
    failure_message="best_beta_for_samples is the beta of your sweep whose kept model has the lowest FD of its prior samples")
def test_best_beta(env, best_beta_for_samples):
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
    assert best_beta_for_samples is not None and best_beta_for_samples is not ..., 'best_beta_for_samples is not filled in'
    figures = measured(kept, with_fd=True)
    fds = {b: f[2] for b, f in figures.items()}
    assert best_beta_for_samples in fds, f'best_beta_for_samples = {best_beta_for_samples!r} is not a beta of your sweep {list(fds)}'
    best = min(fds, key=fds.get)
    assert fds[best_beta_for_samples] <= fds[best] + 0.5, f'beta = {best_beta_for_samples} has FD {fds[best_beta_for_samples]:.1f}, but beta = {best} has {fds[best]:.1f}: choose the beta with the lowest FD'

