from otter.test_files import test_case

OK_FORMAT = False

name = "q6"
points = 2
all_or_nothing = True

@test_case(points=None, hidden=False, 
    failure_message="vae_step is one optimizer step on the batch mean of the negative ELBO: zero_grad, backward, step; the usual mistakes are the loss summed over the batch, no optimizer.zero_grad() (gradients pile up over the steps) and no loss.backward()")
def test_vae_step(vae_step):
    import copy
    import torch
    from torch.distributions import Bernoulli, Normal, kl_divergence
    from edu_gen.vae import VAE as ReferenceVAE
    assert vae_step is not None, "vae_step is not defined: keep the function's name"
    F = torch.nn.functional
    reference = {'reparameterize': lambda mu, logvar, eps: mu + torch.exp(0.5 * logvar) * eps, 'gaussian_kl': lambda mu, logvar: 0.5 * (mu ** 2 + logvar.exp() - 1 - logvar).sum(-1), 'negative_elbo': lambda logits, x, mu, logvar: F.binary_cross_entropy_with_logits(logits, x, reduction='none').sum(1) + 0.5 * (mu ** 2 + logvar.exp() - 1 - logvar).sum(1)}
    env = getattr(vae_step, '__globals__', {})
    saved = {name: env[name] for name in reference if name in env}
    env.update(reference)
    try:
        torch.manual_seed(61)
        model = ReferenceVAE(latent_dim=3, hidden=(16,))
        oracle = copy.deepcopy(model)
        optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
        oracle_optimizer = torch.optim.Adam(oracle.parameters(), lr=0.01)
        x = (torch.rand(8, 1, 28, 28) < 0.3).float()
        for p in model.parameters():
            p.grad = torch.ones_like(p)
        for step in range(2):
            before = [p.detach().clone() for p in model.parameters()]
            torch.manual_seed(610 + step)
            got = vae_step(model, optimizer, x)
            assert got is not None, "vae_step returned None: return the batch's mean negative ELBO"
            assert torch.as_tensor(got).numel() == 1, 'vae_step should return its loss, one number'
            got = float(got)
            torch.manual_seed(610 + step)
            mu, logvar = oracle.encode(x)
            q = Normal(mu, torch.exp(0.5 * logvar))
            z = mu + q.stddev * torch.randn(mu.shape)
            per_image = -Bernoulli(logits=oracle.decode_logits(z)).log_prob(x.reshape(8, 784)).sum(1) + kl_divergence(q, Normal(0.0, 1.0)).sum(1)
            want = per_image.mean()
            assert abs(got - 8 * want.item()) > 0.001 * want.item(), f'vae_step returned {got:.1f}, 8 times the batch mean {want.item():.1f}: the loss is summed over the batch of 8; average it (.mean())'
            assert abs(got - want.item()) < 0.0001 * want.item(), f"vae_step returned {got:.3f}, want the batch mean of the negative ELBO {want.item():.3f} (z from reparameterize with eps = torch.randn_like(mu), the step's only random draw)"
            assert any((not torch.equal(p, b) for p, b in zip(model.parameters(), before))), 'vae_step did not change the weights: call loss.backward(), then optimizer.step()'
            oracle_optimizer.zero_grad()
            want.backward()
            oracle_optimizer.step()
            change = [p.detach() - b for p, b in zip(model.parameters(), before)]
            want_change = [p.detach() - b for p, b in zip(oracle.parameters(), before)]
            error = sum(((c - w).abs().sum() for c, w in zip(change, want_change))) / sum((w.abs().sum() for w in want_change))
            hint = ' (zero_grad, backward on the batch mean, step)'
            if step == 0 and error >= 0.001:
                stale = copy.deepcopy(oracle)
                for p, b in zip(stale.parameters(), before):
                    p.data.copy_(b)
                stale_optimizer = torch.optim.Adam(stale.parameters(), lr=0.01)
                stale_optimizer.zero_grad()
                for p, o in zip(stale.parameters(), oracle.parameters()):
                    p.grad = o.grad + 1
                stale_optimizer.step()
                stale_change = [p.detach() - b for p, b in zip(stale.parameters(), before)]
                if sum(((c - w).abs().sum() for c, w in zip(change, stale_change))) < 0.001 * sum((w.abs().sum() for w in stale_change)):
                    hint = ': it added the gradients left on the weights from before the step; call optimizer.zero_grad() before loss.backward() (not after the step)'
            elif step:
                hint = ': the gradients pile up over the steps; call optimizer.zero_grad() before loss.backward()'
            assert error < 0.001, f'step {step + 1} changed the weights otherwise than one Adam step on the batch mean (relative difference {error:.2f}){hint}'
            for p, o in zip(model.parameters(), oracle.parameters()):
                p.data.copy_(o.data)
    finally:
        for name in reference:
            if name in saved:
                env[name] = saved[name]
            else:
                env.pop(name, None)

