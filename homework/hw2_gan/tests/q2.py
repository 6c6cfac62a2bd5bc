from otter.test_files import test_case

OK_FORMAT = False

name = "q2"
points = 2
all_or_nothing = True

@test_case(points=None, hidden=False, 
    failure_message="both losses from the logits with F.softplus, compared with F.binary_cross_entropy_with_logits; the usual mistakes are log(sigmoid(d)), which overflows for logits like +-100, and the minimax log(1 - D(G(z))) as the generator loss")
def test_losses_values(d_loss, g_loss):
    import torch
    import torch.nn.functional as F
    assert d_loss is not None, "d_loss is not defined: keep the function's name"
    assert g_loss is not None, "g_loss is not defined: keep the function's name"
    g = torch.Generator().manual_seed(21)
    real, fake = (3 * torch.randn(16, generator=g), 3 * torch.randn(12, generator=g))
    loss = d_loss(real, fake)
    assert loss is not None, 'd_loss returned None: write its body'
    assert torch.is_tensor(loss) and loss.numel() == 1, 'd_loss should return one number: average over each batch'
    want = F.binary_cross_entropy_with_logits(real, torch.ones(16)) + F.binary_cross_entropy_with_logits(fake, torch.zeros(12))
    assert torch.allclose(loss, want, atol=1e-05), 'd_loss is not -[mean log D(x) + mean log(1 - D(G(z)))] (softplus(-real) + softplus(fake), each averaged)'
    loss = g_loss(fake)
    assert loss is not None, 'g_loss returned None: write its body'
    assert torch.is_tensor(loss) and loss.numel() == 1, 'g_loss should return one number: average over the batch'
    minimax = -F.binary_cross_entropy_with_logits(fake, torch.zeros(12))
    assert not torch.allclose(loss, minimax, atol=1e-05), 'g_loss is the minimax log(1 - D(G(z))): the non-saturating loss is -log D(G(z)) = softplus(-d)'
    assert torch.allclose(loss, F.binary_cross_entropy_with_logits(fake, torch.ones(12)), atol=1e-05), 'g_loss is not the non-saturating -mean log D(G(z)) = mean softplus(-d)'
    real, fake = (torch.tensor([-150.0, 2.0]), torch.tensor([150.0, -100.0]))
    loss = d_loss(real, fake)
    assert torch.isfinite(loss), 'd_loss is inf or NaN for logits like +-100: sigmoid rounds to 0 or 1 and the log overflows; write it with F.softplus'
    want = F.binary_cross_entropy_with_logits(real, torch.ones(2)) + F.binary_cross_entropy_with_logits(fake, torch.zeros(2))
    assert torch.allclose(loss, want, rtol=1e-05), f'd_loss = {loss.item():.2f} for logits like +-150, want {want.item():.2f} (F.binary_cross_entropy on sigmoid clamps the log at -100): write it from the logits with F.softplus'
    loss = g_loss(-fake)
    assert torch.isfinite(loss), 'g_loss is inf or NaN for logits like +-100: write it with F.softplus(-d)'
    want = F.binary_cross_entropy_with_logits(-fake, torch.ones(2))
    assert torch.allclose(loss, want, rtol=1e-05), f'g_loss = {loss.item():.2f} for logits like +-150, want {want.item():.2f}: write it from the logits with F.softplus(-d)'

