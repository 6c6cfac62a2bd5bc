from otter.test_files import test_case

OK_FORMAT = False

name = "q5"
points = 1
all_or_nothing = True

@test_case(points=None, hidden=False, 
    failure_message="the generator is measured from the weights that keep_weights left in the training cell's output: at most 3,000 steps of each network, at least 7 of 8 modes covered and at least 50 % high-quality samples; the usual mistake is mode collapse from a constant learning rate or too short a run")
def test_ring_trained(env):
    from edu_gen.gan import MLPGenerator
    from edu_gen.homework import kept_weights, load_weights
    from edu_gen.modes import evaluate_generator
    kept = kept_weights('q5', env.get('ring_weights'), 'hw2_gan.ipynb')
    for name in ('g_steps', 'd_steps'):
        steps = kept['counts'].get(name)
        assert isinstance(steps, int) and steps > 0, f'the kept weights hold no {name} ({steps!r}): end the training cell with keep_weights as given'
        assert steps <= 3000, f'{name} is {steps:,}: the budget is 3,000 steps of each network'
    config = (kept['models'].get('generator') or {}).get('config')
    assert isinstance(config, dict) and config.get('out_shape') == [2], "the kept generator is not edu_gen's MLPGenerator for 2D points: keep MLPGenerator(latent_dim=..., out_shape=(2,), ...)"
    generator = load_weights(MLPGenerator(**config), kept, 'generator')
    metric = evaluate_generator(generator, 'ring')
    modes, high_quality = (metric['modes'], metric['high_quality'])
    assert modes >= 7, f'the generator covers {modes} of 8 modes (mode collapse): decay the learning rate, train longer, or widen the generator'
    assert high_quality >= 0.5, f'only {100 * high_quality:.0f} % of the samples are of high quality: train longer, or decay the learning rate to 0 so the samples settle on the modes'

