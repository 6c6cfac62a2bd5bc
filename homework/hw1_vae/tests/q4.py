from otter.test_files import test_case

OK_FORMAT = False

name = "q4"
points = 2
all_or_nothing = True

@test_case(points=None, hidden=False, 
    failure_message="the bound is logsumexp(log_w, 0) - log k; the usual mistake is averaging the log-weights (that is the ELBO)")
def test_iwae_values(iwae_bound):
    import math
    import torch
    assert iwae_bound is not None, "iwae_bound is not defined: keep the function's name"
    g = torch.Generator().manual_seed(7)
    log_w = -100 + 3 * torch.randn(10, 4, generator=g, dtype=torch.float64)
    bound = iwae_bound(log_w)
    assert bound is not None, 'iwae_bound returned None: write its body'
    assert torch.is_tensor(bound) and bound.shape == (4,), 'the bound should have shape (batch,): reduce over dim 0 (the k draws)'
    m = log_w.max(0).values
    want = m + torch.log(torch.exp(log_w - m).sum(0) / log_w.shape[0])
    assert not torch.allclose(bound, log_w.mean(0)), 'the log-weights are averaged: the bound is log mean exp, not mean log (that is the ELBO)'
    assert torch.allclose(bound, want, atol=1e-06), 'the bound is not log mean exp(log_w) over dim 0 (did you subtract log k?)'
    log_w32 = -120 + 3 * torch.randn(10, 4, generator=g)
    assert torch.isfinite(iwae_bound(log_w32)).all(), 'the bound is -inf for float32 log-weights near -120: exp(log_w) underflows to 0; compute log mean exp with torch.logsumexp(log_w, 0) - log k'

