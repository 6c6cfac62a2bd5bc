"""Shapes whose generating factors are known: a small dSprites made on the fly.

dSprites (Matthey et al. 2017) draws a white shape on black for every combination of five
factors: shape, scale, rotation, x and y. A disentanglement metric needs exactly that, the
true factors of every image, so this module draws its own version at the book's 28x28 size
(dSprites itself is 64x64 and cannot be downloaded here; the metrics of
``edu_gen.disentangle`` take any codes and factors, so they run on it unchanged).

Every image is one row of the full grid of factor values, in a fixed order (the last
factor varies fastest, as in dSprites): nothing is random, so every machine draws the same
data set. Factors are integer indices, ``factors[:, j]`` in ``0 .. sizes[j] - 1``:

- ``shape``     0 square, 1 ellipse (axes 2:1), 2 equilateral triangle
- ``scale``     the shape's circumradius, evenly from 3.5 to 7 pixels
- ``rotation``  evenly in [0, 90) degrees (a square repeats after 90, so the range stops there)
- ``x``, ``y``  the centre, evenly from 7.5 to 20.5 pixels (the shape stays on the canvas)

Pixels are 1 inside the shape and 0 outside, with a one-pixel grey ramp across the edge
(anti-aliasing): values in [0, 1], like the grey digits, so the book's Bernoulli VAE trains
on them unchanged, and a shift of a fraction of a pixel still changes the image.
"""
import math

import torch

FACTORS = ("shape", "scale", "rotation", "x", "y")
SHAPES = ("square", "ellipse", "triangle")
SIZE = 28
RADIUS = (3.5, 7.0)       # circumradius in pixels, smallest and largest scale
CENTRE = (7.5, 20.5)      # x and y of the centre in pixels, first and last position
MAX_ROTATION = 90.0       # degrees; the grid stops short of it


def check_sizes(sizes):
    """Raise a ValueError unless ``sizes`` gives a positive count for each of the 5 factors."""
    sizes = tuple(sizes)
    if len(sizes) != len(FACTORS) or not all(isinstance(n, int) and n >= 1 for n in sizes):
        raise ValueError(f"sizes must be {len(FACTORS)} positive integers, one per factor "
                         f"{FACTORS}, e.g. (3, 4, 6, 8, 8); got {sizes}")
    if not 1 <= sizes[0] <= len(SHAPES):
        raise ValueError(f"there are {len(SHAPES)} shapes {SHAPES}: sizes[0] must be 1 to "
                         f"{len(SHAPES)}, got {sizes[0]}")
    return sizes


def factor_grid(sizes):
    """Every combination of factor indices, (prod(sizes), 5) int64, the last varying fastest."""
    sizes = check_sizes(sizes)
    axes = torch.meshgrid(*[torch.arange(n) for n in sizes], indexing="ij")
    return torch.stack([axis.flatten() for axis in axes], dim=1)


def _evenly(index, count, low, high, endpoint=True):
    """The index-th of ``count`` values spread evenly from low to high (or short of high)."""
    steps = (count - 1 if endpoint else count) or 1
    return low + (high - low) * index.double() / steps


def factor_values(factors, sizes):
    """The physical values of factor indices (N, 5): a dict of float64 tensors (N,) with
    ``shape`` (the index), ``radius`` in pixels, ``angle`` in radians, ``x`` and ``y`` in
    pixels (column and row of the centre)."""
    sizes = check_sizes(sizes)
    check_factors(factors, sizes)
    return {"shape": factors[:, 0],
            "radius": _evenly(factors[:, 1], sizes[1], *RADIUS),
            "angle": torch.deg2rad(_evenly(factors[:, 2], sizes[2], 0.0, MAX_ROTATION, False)),
            "x": _evenly(factors[:, 3], sizes[3], *CENTRE),
            "y": _evenly(factors[:, 4], sizes[4], *CENTRE)}


def check_factors(factors, sizes):
    """Raise a ValueError unless ``factors`` is an integer (N, 5) tensor within ``sizes``."""
    if not torch.is_tensor(factors) or factors.dtype != torch.int64 or factors.dim() != 2 \
            or factors.shape[1] != len(sizes):
        raise ValueError(f"factors must be an int64 tensor (N, {len(sizes)}) of indices, one "
                         f"column per factor {FACTORS}; got {getattr(factors, 'dtype', type(factors))} "
                         f"{tuple(getattr(factors, 'shape', ()))}")
    if len(factors) and ((factors < 0).any() or (factors >= torch.tensor(sizes)).any()):
        raise ValueError(f"factor indices must lie in 0 .. size - 1 for sizes {tuple(sizes)}")


def signed_distance(shape, u, v, radius):
    """About how far (in pixels) the points (u, v) of the shape's own frame (centred,
    unrotated) lie outside its edge: negative inside. Exact for the sides of the square and
    the triangle, to first order for the ellipse (its implicit function over its gradient)."""
    half_side = radius / math.sqrt(2)
    square = torch.maximum(u.abs(), v.abs()) - half_side
    a, b = radius, radius / 2                  # the ellipse's semi-axes, 2:1
    r = torch.sqrt((u / a) ** 2 + (v / b) ** 2)
    gradient = torch.sqrt((u / a ** 2) ** 2 + (v / b ** 2) ** 2) / r.clamp(min=1e-6)
    ellipse = (r - 1) / gradient.clamp(min=1e-6)
    triangle = torch.full_like(u, -math.inf)   # three edges at distance radius / 2 from the centre
    for k in range(3):
        normal = 2 * math.pi * k / 3 - math.pi / 2
        triangle = torch.maximum(triangle, u * math.cos(normal) + v * math.sin(normal) - radius / 2)
    return torch.where(shape == 0, square, torch.where(shape == 1, ellipse, triangle))


@torch.no_grad()
def render_shapes(factors, sizes, batch_size=4096):
    """The images of factor indices (N, 5): (N, 1, 28, 28) float32 in [0, 1]. A pixel is 1
    inside the shape, 0 outside, and in between its grey falls linearly across the edge:
    clamp(1/2 - d, 0, 1), d the signed distance of the pixel's centre to the edge."""
    values = factor_values(factors, sizes)
    centres = torch.arange(SIZE, dtype=torch.float32) + 0.5
    py, px = torch.meshgrid(centres, centres, indexing="ij")   # row (y) and column (x) of each pixel
    images = []
    for rows in torch.arange(len(factors)).split(batch_size):
        v = {k: t[rows][:, None, None] for k, t in values.items()}
        dx, dy = px - v["x"].float(), py - v["y"].float()
        cos, sin = torch.cos(v["angle"]).float(), torch.sin(v["angle"]).float()
        u, w = cos * dx + sin * dy, -sin * dx + cos * dy          # rotate the pixels by -angle
        d = signed_distance(v["shape"], u, w, v["radius"].float())
        images.append((0.5 - d).clamp(0, 1))
    return torch.cat(images)[:, None] if images else torch.empty(0, 1, SIZE, SIZE)


def shapes_dataset(sizes=(3, 4, 6, 8, 8), device="cpu"):
    """``(images (N, 1, 28, 28), factors (N, 5))`` for the full grid of ``sizes``; N is
    their product (4,608 for the default)."""
    factors = factor_grid(sizes)
    return render_shapes(factors, sizes).to(device), factors.to(device)
