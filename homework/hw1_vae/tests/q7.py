from otter.test_files import test_case

OK_FORMAT = False

name = "q7"
points = 2
all_or_nothing = True

@test_case(points=None, hidden=False, 
    failure_message="the VAE is scored from the weights that keep_weights left in the training cell's output: at most 4,000 optimizer steps, and a test negative ELBO of at most 110 nats (the target 107 +- 3) by edu_gen.vae_eval.evaluate; the usual mistakes are too short a run and a learning rate left high")
def test_vae_trained(env):
    from edu_gen.data import load_mnist
    from edu_gen.homework import kept_weights, load_weights
    from edu_gen.vae import VAE as ReferenceVAE
    from edu_gen.vae_eval import evaluate
    kept = kept_weights('q7', env.get('vae_weights'), 'hw1_vae.ipynb')
    steps = kept['counts'].get('steps')
    assert isinstance(steps, int) and steps > 0, f"the kept weights hold no step count ({steps!r}): end the training cell with keep_weights('q7', {{'vae': model}}, steps=optimizer_steps(optimizer))"
    assert steps <= 4000, f'your optimizer made {steps:,} steps, the budget is 4,000 (100 epochs of batch 128 are 3,200)'
    model = load_weights(ReferenceVAE(latent_dim=20, hidden=(400,)), kept, 'vae')
    scores = evaluate(model, load_mnist('test', small=True)[0])
    neg_elbo, rate = (scores['neg_elbo'], scores['rate'])
    assert neg_elbo <= 110, f'the test negative ELBO of your trained VAE is {neg_elbo:.2f} nats (KL {rate:.2f}), the bar is 110: train longer (about 100 epochs) and decay the learning rate to 0'

