from otter.test_files import test_case

OK_FORMAT = False

name = "q1"
points = 2
all_or_nothing = True

@test_case(points=None, hidden=False, 
    failure_message="D* = p_data / (p_data + p_g) and V(D*, G) = -log 4 + 2 JSD (natural logs); the usual mistakes are p_g on top and 0 log 0 computed as NaN (use torch.xlogy)")
def test_optimal_discriminator(optimal_discriminator, gan_value):
    import math
    import torch
    from scipy.spatial.distance import jensenshannon
    assert optimal_discriminator is not None, "optimal_discriminator is not defined: keep the function's name"
    assert gan_value is not None, "gan_value is not defined: keep the function's name"
    x = torch.linspace(-4, 5, 10, dtype=torch.float64)
    p = torch.exp(-x ** 2 / 2)
    q = torch.exp(-(x - 1) ** 2 / 2)
    d = optimal_discriminator(p, q)
    assert d is not None, 'optimal_discriminator returned None: write its body'
    assert torch.is_tensor(d) and d.shape == x.shape, f'D* should be a tensor of shape {tuple(x.shape)}, one value per point'
    assert not torch.allclose(d, torch.sigmoid(x - 0.5)), 'D* has p_g on top: D*(x) = p_data / (p_data + p_g) is the probability that x is real'
    assert torch.allclose(d, torch.sigmoid(0.5 - x)), 'D* is not p_data / (p_data + p_g)'
    g = torch.Generator().manual_seed(11)
    p_data = torch.rand(6, generator=g, dtype=torch.float64)
    p_g = torch.rand(6, generator=g, dtype=torch.float64)
    p_data, p_g = (p_data / p_data.sum(), p_g / p_g.sum())
    v = gan_value(torch.full((6,), 0.5, dtype=torch.float64), p_data, p_g)
    assert v is not None, 'gan_value returned None: write its body'
    assert torch.is_tensor(v) and v.numel() == 1, 'gan_value should return one number (a 0-dim tensor): sum over the points'
    assert abs(float(v) + math.log(4)) < 1e-09, f'V(1/2, G) should be log(1/2) + log(1/2) = -log 4, got {float(v):.6f}: sum p_data log d + p_g log(1 - d)'
    v = gan_value(optimal_discriminator(p_data, p_g), p_data, p_g)
    jsd = jensenshannon(p_data.numpy(), p_g.numpy()) ** 2
    assert abs(float(v) - (-math.log(4) + 2 * jsd)) < 1e-09, f'V(D*, G) = {float(v):.6f}, want -log 4 + 2 JSD = {-math.log(4) + 2 * jsd:.6f}'
    p_data = torch.tensor([0.5, 0.5, 0.0], dtype=torch.float64)
    p_g = torch.tensor([0.0, 0.5, 0.5], dtype=torch.float64)
    v = gan_value(optimal_discriminator(p_data, p_g), p_data, p_g)
    assert torch.isfinite(torch.as_tensor(v)), 'V(D*, G) is NaN where p_g = 0 (or p_data = 0): 0 log 0 must count as 0, use torch.xlogy(p, d)'
    assert abs(float(v) + math.log(2)) < 1e-09, f'V(D*, G) should be -log 2 here, got {float(v):.6f}'

