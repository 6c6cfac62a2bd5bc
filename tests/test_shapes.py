"""The shapes data set: the full factor grid in dSprites' order, each factor changing the
image the way its name says (measured from the image, not from the code that drew it), and
clear errors for bad sizes and factors."""
import math

import pytest
import torch

from edu_gen.shapes import (CENTRE, FACTORS, RADIUS, factor_grid, factor_values, render_shapes,
                            shapes_dataset)

SIZES = (3, 2, 3, 4, 4)


def test_the_grid_holds_every_combination_once_the_last_factor_fastest():
    grid = factor_grid(SIZES)
    assert grid.shape == (math.prod(SIZES), len(FACTORS)) and grid.dtype == torch.int64
    assert len({tuple(row) for row in grid.tolist()}) == len(grid)
    assert grid[:4, 4].tolist() == [0, 1, 2, 3] and grid[:4, :4].eq(0).all()
    for j, n in enumerate(SIZES):
        assert torch.bincount(grid[:, j]).tolist() == [len(grid) // n] * n


def test_images_are_deterministic_in_range_and_on_the_canvas():
    images, factors = shapes_dataset(SIZES)
    again, _ = shapes_dataset(SIZES)
    assert torch.equal(images, again)
    assert images.shape == (len(factors), 1, 28, 28)
    assert images.min() >= 0 and images.max() <= 1
    border = torch.cat([images[..., 0, :], images[..., -1, :], images[..., :, 0], images[..., :, -1]], -1)
    # the largest shapes at the outermost positions reach the centre of the outermost pixel
    # (grey 1/2) and no further: no ink is cut off by the canvas
    assert border.max() <= 0.5
    assert len(torch.unique(images.flatten(1), dim=0)) == len(images)   # every image differs


def centre_of_ink(images):
    w = images[:, 0].double()
    idx = torch.arange(28, dtype=torch.float64) + 0.5
    return (w.sum(1) * idx).sum(1) / w.sum((1, 2)), (w.sum(2) * idx).sum(1) / w.sum((1, 2))


def test_x_and_y_move_the_ink_to_the_stated_pixels():
    sizes = (3, 1, 1, 5, 5)
    factors = factor_grid(sizes)
    images = render_shapes(factors, sizes)
    x, y = centre_of_ink(images)
    values = factor_values(factors, sizes)
    torch.testing.assert_close(values["x"][factors[:, 3] == 0], torch.full((15,), CENTRE[0], dtype=torch.float64))
    # a square and an ellipse are symmetric about their centre: their ink's mean is the centre
    symmetric = factors[:, 0] < 2
    torch.testing.assert_close(x[symmetric], values["x"][symmetric], atol=0.05, rtol=0)
    torch.testing.assert_close(y[symmetric], values["y"][symmetric], atol=0.05, rtol=0)


def test_scale_sets_the_area_of_each_shape():
    """Ink (the sum of the pixels) against the area in closed form, for radius r: square
    2 r^2, ellipse pi r^2 / 2 (axes r and r / 2), equilateral triangle 3 sqrt(3) r^2 / 4."""
    sizes = (3, 3, 1, 1, 1)
    factors = factor_grid(sizes)
    ink = render_shapes(factors, sizes).sum((1, 2, 3)).double()
    r = factor_values(factors, sizes)["radius"]
    area = torch.stack([2 * r ** 2, math.pi * r ** 2 / 2, 3 * math.sqrt(3) * r ** 2 / 4])
    expected = area[factors[:, 0], torch.arange(len(factors))]
    # within 6 %: the edge's grey ramp is exact along straight sides, not at the corners
    torch.testing.assert_close(ink, expected, rtol=0.06, atol=0)
    assert r.min() == RADIUS[0] and r.max() == RADIUS[1]


def test_rotation_turns_the_ellipse_by_its_angle():
    """The principal axis of the ellipse's ink (from its second moments) lies at the angle."""
    sizes = (3, 1, 6, 1, 1)
    factors = factor_grid(sizes)
    factors = factors[factors[:, 0] == 1]
    images = render_shapes(factors, sizes)[:, 0].double()
    idx = torch.arange(28, dtype=torch.float64)
    x, y = centre_of_ink(images[:, None])
    dx, dy = idx[None, None, :] + 0.5 - x[:, None, None], idx[None, :, None] + 0.5 - y[:, None, None]
    mass = images.sum((1, 2))
    mxx, myy = (images * dx ** 2).sum((1, 2)) / mass, (images * dy ** 2).sum((1, 2)) / mass
    mxy = (images * dx * dy).sum((1, 2)) / mass
    axis = 0.5 * torch.atan2(2 * mxy, mxx - myy)                 # rows grow downwards
    angle = factor_values(factors, sizes)["angle"]
    assert angle.tolist() == pytest.approx([math.radians(a) for a in (0, 15, 30, 45, 60, 75)])
    torch.testing.assert_close(axis, angle, atol=0.03, rtol=0)


@pytest.mark.parametrize("sizes, phrase", [((3, 4, 6, 8), "5 positive integers"),
                                           ((3, 4, 0, 8, 8), "5 positive integers"),
                                           ((4, 1, 1, 1, 1), "3 shapes")])
def test_bad_sizes_say_what_is_expected(sizes, phrase):
    with pytest.raises(ValueError, match=phrase):
        shapes_dataset(sizes)


@pytest.mark.parametrize("factors", [torch.zeros(4, 4, dtype=torch.long), torch.zeros(4, 5),
                                     torch.tensor([[0, 0, 0, 0, 9]])])
def test_bad_factors_say_what_is_expected(factors):
    with pytest.raises(ValueError, match="factor"):
        render_shapes(factors, SIZES)
