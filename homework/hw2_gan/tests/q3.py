from otter.test_files import test_case

OK_FORMAT = False

name = "q3"
points = 2
all_or_nothing = True

@test_case(points=None, hidden=False, 
    failure_message="x_hat = alpha real + (1 - alpha) fake with one alpha ~ U(0, 1) per example (torch.rand), and the penalty is mean((||grad f(x_hat)||_2 - 1)^2); the usual mistake is alpha drawn from a normal (torch.randn)")
def test_gradient_penalty_values(gradient_penalty):
    import torch
    assert gradient_penalty is not None, "gradient_penalty is not defined: keep the function's name"

    class Quadratic(torch.nn.Module):
        """f(x) = s ||x||^2 / 2, whose gradient s x reveals the point: it records its inputs."""

        def __init__(self):
            super().__init__()
            self.s = torch.nn.Parameter(torch.tensor(1.5, dtype=torch.float64))
            self.seen = []

        def forward(self, x):
            self.seen.append(x)
            return 0.5 * self.s * x.flatten(1).pow(2).sum(1)
    torch.manual_seed(31)
    real = torch.randn(2000, 2, dtype=torch.float64) + 3
    fake = torch.randn(2000, 2, dtype=torch.float64)
    critic = Quadratic()
    penalty = gradient_penalty(critic, real, fake)
    assert penalty is not None, 'gradient_penalty returned None: write its body'
    assert torch.is_tensor(penalty) and penalty.numel() == 1, 'the penalty should be one number: the mean over the batch'
    calls = [x for x in critic.seen if x.requires_grad]
    assert calls, 'the critic was never called on points that require grad: x_hat.requires_grad_(True) before critic(x_hat)'
    x_hat = calls[-1].detach()
    assert x_hat.shape == real.shape, f'the critic should see a batch of shape {tuple(real.shape)}'
    alpha = ((x_hat - fake) * (real - fake)).sum(1) / (real - fake).pow(2).sum(1)
    off = (x_hat - fake - alpha[:, None] * (real - fake)).abs().max()
    assert off < 1e-06, 'x_hat is not on the segment between real and fake: one alpha per example (shape (N, 1)), not one per coordinate'
    assert not torch.allclose(alpha, torch.ones_like(alpha), atol=1e-06), 'the critic was called on the real examples themselves (alpha = 1): evaluate the gradient at x_hat = alpha real + (1 - alpha) fake'
    assert not torch.allclose(alpha, torch.zeros_like(alpha), atol=1e-06), 'the critic was called on the fakes themselves (alpha = 0): evaluate the gradient at x_hat = alpha real + (1 - alpha) fake'
    assert alpha.std() > 0.1, 'every example has the same alpha: draw one alpha per example, shape (N, 1)'
    assert alpha.min() >= -1e-09 and alpha.max() <= 1 + 1e-09, f'alpha ranges over [{alpha.min():.2f}, {alpha.max():.2f}], outside [0, 1]: draw it from U(0, 1) with torch.rand, not from a normal with torch.randn'
    want = (1.5 * x_hat.norm(dim=1) - 1).pow(2).mean()
    assert torch.allclose(penalty.detach().double(), want, rtol=1e-06), 'the penalty is not mean((||grad f(x_hat)||_2 - 1)^2) over the batch (norm per example, then mean)'
    assert penalty.requires_grad, "the penalty does not depend on the critic's parameters, so the critic's loss cannot learn from it: take the gradient with torch.autograd.grad(..., create_graph=True)"

