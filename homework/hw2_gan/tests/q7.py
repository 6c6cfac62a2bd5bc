from otter.test_files import test_case

OK_FORMAT = False

name = "q7"
points = 1
all_or_nothing = True

@test_case(points=None, hidden=False, 
    failure_message="the DCGAN is judged from the weights that keep_weights left in the training cell's output: at most 1,000 steps of each network, then an FD below 330 and a recall of at least 0.2 of 1,000 samples against the 1,000 test digits; the usual mistakes are mode collapse (a recall near 0) and too few updates")
def test_dcgan_trained(env):
    import torch
    from edu_gen.data import load_mnist
    from edu_gen.gan import DCGANGenerator
    from edu_gen.homework import kept_weights, load_weights
    from edu_gen.metrics import evaluate_samples
    kept = kept_weights('q7', env.get('dcgan_weights'), 'hw2_gan.ipynb')
    for name in ('g_steps', 'd_steps'):
        steps = kept['counts'].get(name)
        assert isinstance(steps, int) and steps > 0, f'the kept weights hold no {name} ({steps!r}): end the training cell with keep_weights as given'
        assert steps <= 1000, f'{name} is {steps:,}: the budget is 1,000 steps of each network (3 epochs of batch 16 are 750)'
    generator = load_weights(DCGANGenerator(latent_dim=64, ngf=16), kept, 'generator').eval()
    with torch.no_grad():
        z = torch.randn(1000, 64, generator=torch.Generator().manual_seed(0))
        samples = ((generator(z) + 1) / 2).clamp(0, 1)
    metric = evaluate_samples(samples, load_mnist('test', small=True)[0][:1000])
    fd, recall = (metric['fd'], metric['recall'])
    assert recall >= 0.2, f'the recall is {recall:.3f}: the samples come near only {100 * recall:.0f} % of the test digits (mode collapse); at least 0.2 is needed: train the DCGAN (convolutions, batch norm) with Adam at 2e-4 and beta1 = 0.5, in batches of 16'
    assert fd < 330, f"the FD is {fd:.1f}, the bar is below 330 (the book's features): train for 3 epochs in batches of 16, with Adam at 2e-4, betas (0.5, 0.999)"

