"""How faithful a block picture is to its source: the blurred and the per-pixel CIEDE2000.

Dithering trades per-pixel accuracy for the right colour on average: from a few steps back the
eye averages neighbouring blocks, and it is that average that should match the picture. So the
score that ranks pictures is the *blurred* ΔE2000:

1. decode the resized source and the block picture from sRGB to linear light (light mixes linearly);
2. blur both with a Gaussian of σ = 1 block, reflecting at the borders; transparent pixels (air)
   are left out of the blur by normalised convolution (blur of colour x mask / blur of mask);
3. encode back to sRGB, convert to CIELAB (D65), and take the mean CIEDE2000 over the opaque pixels
   (over a fixed random draw of 65,536 of them in a larger picture: within about 0.02 of the whole).

Lower is better; under 1 is hard to see, under 2 close, above 3 plainly off. It is read together with the plain
per-pixel mean ΔE2000, which dithering raises on purpose.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from pixeletica.engine import _jit

_jit.configure_cache()  # before any compiled kernel below is defined

import numba  # noqa: E402
import numpy as np  # noqa: E402
from numpy.typing import NDArray  # noqa: E402

from pixeletica.engine import color  # noqa: E402

#: The blur of the score, in blocks.
SIGMA = 1.0
#: What the score means, in one line, for summaries and pages.
EXPLANATION = (
    "blurred ΔE2000: colour difference after both pictures are softened as the eye sees them from a few "
    "steps back (lower is better; under 2 is close)"
)
#: Pixels whose CIEDE2000 is averaged at the most (larger pictures are sampled): the mean of 65,536
#: differences of a photograph is within about 0.02 of the whole picture's.
_SAMPLE_PIXELS = 1 << 16
_SAMPLE_SEED = 2000  # the year of CIEDE2000


@dataclass(frozen=True)
class Score:
    """Mean CIEDE2000 of a picture against its source: after the blur (what the eye sees) and per pixel."""

    blurred: float
    per_pixel: float


def gaussian_kernel(sigma: float = SIGMA, *, reach: float = 4.0) -> NDArray[np.float32]:
    """A normalised 1-D Gaussian reaching ``reach`` sigmas each side."""
    radius = max(1, math.ceil(reach * sigma))
    x = np.arange(-radius, radius + 1, dtype=np.float64)
    k: NDArray[np.float64] = np.exp(-0.5 * (x / sigma) ** 2)
    return np.asarray(k / k.sum(), dtype=np.float32)


def blur(image: NDArray[np.float32], sigma: float = SIGMA) -> NDArray[np.float32]:
    """Separable Gaussian blur of an (H, W) or (H, W, C) array over its first two axes, mirrored at the borders
    (d c b a | a b c d: the border pixel is mirrored too)."""
    data = np.ascontiguousarray(image, dtype=np.float32)
    flat = data.reshape(data.shape[0], data.shape[1], -1)
    blurred = _blur(flat, gaussian_kernel(sigma))
    return np.asarray(blurred, dtype=np.float32).reshape(data.shape)


def blur_opaque(light: NDArray[np.float32], opaque: NDArray[np.bool_]) -> NDArray[np.float32]:
    """Blur an (H, W, 3) linear-light image with the air left out (normalised convolution).

    Each pixel becomes the Gaussian-weighted mean of the opaque pixels around it.
    """
    weight = opaque.astype(np.float32)
    blurred = blur(light * weight[..., None])
    if not opaque.all():
        blurred /= np.maximum(blur(weight), np.float32(1e-12))[..., None]
    return blurred


@numba.njit(cache=True, nogil=True)
def _mirror(i: int, n: int) -> int:
    """Index ``i`` reflected into 0..n-1 (half-sample symmetric, as scipy's ``reflect``)."""
    while i < 0 or i >= n:
        i = -i - 1 if i < 0 else 2 * n - 1 - i
    return i


@numba.njit(cache=True, nogil=True)
def _blur(image: NDArray[np.float32], kernel: NDArray[np.float32]) -> NDArray[np.float32]:  # pragma: no cover
    h, w, channels = image.shape
    r = kernel.shape[0] // 2
    rows = np.zeros_like(image)
    for y in range(h):
        for x in range(w):
            for k in range(-r, r + 1):
                xx = _mirror(x + k, w)
                for c in range(channels):
                    rows[y, x, c] += kernel[k + r] * image[y, xx, c]
    out = np.zeros_like(image)
    for y in range(h):
        for k in range(-r, r + 1):
            yy = _mirror(y + k, h)
            for x in range(w):
                for c in range(channels):
                    out[y, x, c] += kernel[k + r] * rows[yy, x, c]
    return out


def score(source: NDArray[np.uint8], picture: NDArray[np.uint8], opaque: NDArray[np.bool_]) -> Score:
    """The blurred and per-pixel mean CIEDE2000 of ``picture`` against ``source`` (both (H, W, 3) uint8 sRGB).

    Only pixels where ``opaque`` is True count, in the blur and in the mean. NaN for both when no
    pixel is opaque.
    """
    if source.shape != picture.shape or source.shape[:2] != opaque.shape:
        raise ValueError(
            "source, picture and mask must have the same height and width; got "
            f"{source.shape}, {picture.shape} and {opaque.shape}"
        )
    if not opaque.any():
        return Score(math.nan, math.nan)
    # Every opaque pixel, or a fixed random draw of them (the same on every run; never none while any
    # pixel is opaque, never lined up with the picture's columns). The blur is computed at those
    # pixels only, so a large picture costs memory for the sample, not the picture.
    sample = np.flatnonzero(opaque)
    if sample.size > _SAMPLE_PIXELS:
        sample = np.sort(sample[np.random.default_rng(_SAMPLE_SEED).integers(0, sample.size, _SAMPLE_PIXELS)])
    kernel = gaussian_kernel().astype(np.float64)
    seen = [
        _blurred_at(np.ascontiguousarray(image), opaque, color.SRGB8_TO_LINEAR, kernel, sample)
        for image in (source, picture)
    ]
    blurred = _mean_ciede2000(*(color.linear_to_srgb(s) for s in seen))
    per_pixel = _mean_ciede2000(*(image.reshape(-1, 3)[sample] / 255.0 for image in (source, picture)))
    return Score(blurred=blurred, per_pixel=per_pixel)


@numba.njit(cache=True, nogil=True)
def _blurred_at(
    image: NDArray[np.uint8], opaque: NDArray[np.bool_], to_linear: NDArray[np.float64], kernel: NDArray[np.float64],
    at: NDArray[np.intp],
) -> NDArray[np.float64]:  # pragma: no cover - compiled  # fmt: skip
    """The image in linear light blurred with ``kernel`` (both axes, mirrored, air left out by normalised
    convolution, as :func:`blur_opaque`), at the flat pixel indices ``at``: (len(at), 3)."""
    h, w = opaque.shape
    r = kernel.shape[0] // 2
    out = np.zeros((at.shape[0], 3))
    for n in range(at.shape[0]):
        y, x = at[n] // w, at[n] % w
        total = 0.0
        for dy in range(-r, r + 1):
            yy = _mirror(y + dy, h)
            for dx in range(-r, r + 1):
                xx = _mirror(x + dx, w)
                if opaque[yy, xx]:
                    weight = kernel[dy + r] * kernel[dx + r]
                    total += weight
                    for c in range(3):
                        out[n, c] += weight * to_linear[image[yy, xx, c]]
        for c in range(3):
            out[n, c] /= total
    return out


def _mean_ciede2000(a: NDArray[np.float64], b: NDArray[np.float64]) -> float:
    """Mean CIEDE2000 between two lists of sRGB (0..1) colours."""
    return float(np.mean(color.ciede2000(color.srgb_to_lab(a), color.srgb_to_lab(b))))
