from otter.test_files import test_case

OK_FORMAT = False

name = "q4"
points = 2
all_or_nothing = True

@test_case(points=None, hidden=False, 
    failure_message="d_step detaches the fakes (the generator gets no gradient) and g_step uses the non-saturating -log D(G(z)) with the discriminator frozen; the usual mistakes are fakes not detached and the minimax log(1 - D(G(z))) in g_step")
def test_steps(d_step, g_step):
    import copy
    import torch
    import torch.nn.functional as F
    from torch import nn
    assert d_step is not None, "d_step is not defined: keep the function's name"
    assert g_step is not None, "g_step is not defined: keep the function's name"
    reference = {'d_loss': lambda real_logits, fake_logits: F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean(), 'g_loss': lambda fake_logits: F.softplus(-fake_logits).mean()}
    envs = [getattr(f, '__globals__', {}) for f in (d_step, g_step)]
    saved = [{name: env[name] for name in reference if name in env} for env in envs]
    for env in envs:
        env.update(reference)
    try:
        torch.manual_seed(41)
        G = nn.Sequential(nn.Linear(3, 16), nn.ReLU(), nn.Linear(16, 2))
        D = nn.Sequential(nn.Linear(2, 16), nn.LeakyReLU(0.2), nn.Linear(16, 1), nn.Flatten(0))
        real, z = (torch.randn(32, 2) + 1, torch.randn(32, 3))
        G0, D0 = (copy.deepcopy(G), copy.deepcopy(D))
        for p in D.parameters():
            p.grad = torch.ones_like(p)
        loss = d_step(G, D, torch.optim.SGD(D.parameters(), lr=0.1), real, z)
        assert loss is not None, "d_step returned None: return the discriminator's loss"
        assert torch.as_tensor(loss).numel() == 1, 'd_step should return its loss, one number'
        assert all((p.grad is None for p in G.parameters())), "after d_step the generator has gradients: the discriminator's loss reached G; detach the fakes (generator(z).detach())"
        assert all((torch.equal(p, p0) for p, p0 in zip(G.parameters(), G0.parameters()))), 'd_step changed the generator'
        want = F.binary_cross_entropy_with_logits(D0(real), torch.ones(32)) + F.binary_cross_entropy_with_logits(D0(G0(z)), torch.zeros(32))
        assert abs(float(loss) - want.item()) < 1e-05, "d_step's loss is not -[mean log D(x) + mean log(1 - D(G(z)))]"
        want.backward()
        stale = all((torch.allclose(p, p0 - 0.1 * (p0.grad + 1), atol=1e-06) for p, p0 in zip(D.parameters(), D0.parameters())))
        assert not stale, "d_step added the gradients left on the discriminator's weights from before the step: call d_opt.zero_grad() before loss.backward() (not after the step)"
        for p, p0 in zip(D.parameters(), D0.parameters()):
            assert torch.allclose(p, p0 - 0.1 * p0.grad, atol=1e-06), 'd_step did not make one SGD update of the discriminator (zero_grad, backward, step)'
        G0, D1 = (copy.deepcopy(G), copy.deepcopy(D))
        for p in D.parameters():
            p.grad = None
        for p in G.parameters():
            p.grad = torch.ones_like(p)
        loss = g_step(G, D, torch.optim.SGD(G.parameters(), lr=0.1), z)
        assert loss is not None, "g_step returned None: return the generator's loss"
        assert torch.as_tensor(loss).numel() == 1, 'g_step should return its loss, one number'
        assert all((p.grad is None for p in D.parameters())), "after g_step the discriminator has gradients: freeze it (discriminator.requires_grad_(False)) during G's step"
        assert all((p.requires_grad for p in D.parameters())), 'after g_step the discriminator is still frozen: restore requires_grad_(True), or it stops learning'
        assert all((torch.equal(p, p1) for p, p1 in zip(D.parameters(), D1.parameters()))), 'g_step changed the discriminator'
        logits = D1(G0(z))
        minimax = -F.binary_cross_entropy_with_logits(logits, torch.zeros(32))
        assert abs(float(loss) - minimax.item()) > 1e-05, 'g_step uses the minimax loss log(1 - D(G(z))): use the non-saturating -log D(G(z)) = softplus(-d)'
        want = F.binary_cross_entropy_with_logits(logits, torch.ones(32))
        assert abs(float(loss) - want.item()) < 1e-05, "g_step's loss is not the non-saturating -mean log D(G(z))"
        want.backward()
        stale = all((torch.allclose(p, p0 - 0.1 * (p0.grad + 1), atol=1e-06) for p, p0 in zip(G.parameters(), G0.parameters())))
        assert not stale, "g_step added the gradients left on the generator's weights from before the step: call g_opt.zero_grad() before loss.backward() (not after the step)"
        for p, p0 in zip(G.parameters(), G0.parameters()):
            assert torch.allclose(p, p0 - 0.1 * p0.grad, atol=1e-06), 'g_step did not make one SGD update of the generator with the non-saturating loss'
    finally:
        for env, kept in zip(envs, saved):
            for name in reference:
                if name in kept:
                    env[name] = kept[name]
                else:
                    env.pop(name, None)

