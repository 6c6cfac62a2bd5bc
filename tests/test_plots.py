"""The image grid of every chapter (torchvision's make_grid) keeps the book's layout: images
row by row, ``pad`` pixels of 0 between and around them, drawn black on white."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

from edu_gen.plots import image_grid, show_images


def numbered_images(n, h=3, w=4):
    """Image i is filled with the value i + 1, so every tile says which image it is."""
    return torch.arange(1, n + 1, dtype=torch.float32).view(n, 1, 1, 1).expand(n, 1, h, w)


@pytest.mark.parametrize("n, nrow", [(5, 3), (8, 8), (2, 8), (7, 1)])
def test_tiles_sit_row_by_row_with_zero_gaps(n, nrow):
    h, w, pad = 3, 4, 2
    grid = image_grid(numbered_images(n, h, w), nrow=nrow, pad=pad)
    cols = min(nrow, n)
    rows = -(-n // cols)
    assert grid.shape == (rows * (h + pad) + pad, cols * (w + pad) + pad)
    expected = np.zeros_like(grid)            # the layout written out by hand, as the oracle
    for i in range(n):
        r, c = divmod(i, cols)
        expected[pad + r * (h + pad): pad + r * (h + pad) + h,
                 pad + c * (w + pad): pad + c * (w + pad) + w] = i + 1
    np.testing.assert_array_equal(grid, expected)


def test_three_dimensional_input_is_one_channel():
    images = torch.rand(4, 28, 28)
    np.testing.assert_array_equal(image_grid(images), image_grid(images[:, None]))


def test_bad_shapes_say_what_is_expected():
    with pytest.raises(ValueError, match="grayscale"):
        image_grid(torch.rand(4, 3, 28, 28))
    with pytest.raises(ValueError, match="no images"):
        image_grid(torch.rand(0, 1, 28, 28))


def test_show_images_draws_black_ink_on_white_paper():
    images = torch.rand(6, 1, 28, 28)
    ax = show_images(images, nrow=3)
    shown = ax.get_images()[0]
    assert shown.get_cmap().name == "gray_r" and shown.get_clim() == (0, 1)
    np.testing.assert_array_equal(shown.get_array(), image_grid(images, 3))
    plt.close("all")
