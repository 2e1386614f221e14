"""Threshold maps for ordered dithering: Bayer matrices and a blue-noise map.

A threshold map holds values in (0, 1), one per pixel of a tile repeated over the picture; a pixel
between two palette colours takes the second where its threshold is below its ratio (see
:mod:`pixeletica.engine.dither`).

- Bayer (1973): the recursive dispersed-dot matrix; regular, with a visible cross-hatch.
- Blue noise by void-and-cluster (Ulichney, "The void-and-cluster method for dither array
  generation", 1993): thresholds spread as evenly as possible with no period inside the tile, so
  the pattern looks like fine grain instead of a grid. Made once per process from a fixed seed:
  the same map on every machine.
"""

from __future__ import annotations

import functools

import numpy as np
from numpy.typing import NDArray

#: Side of the blue-noise tile.
BLUE_NOISE_SIZE = 64
#: Width of the Gaussian that measures clustering (Ulichney's 1.5).
_SIGMA = 1.5
_SEED = 1993


def bayer_matrix(size: int) -> NDArray[np.float64]:
    """Bayer threshold matrix of ``size`` (a power of two) with values (k + 0.5) / size**2 in (0, 1)."""
    if size < 2 or size & (size - 1):
        raise ValueError(f"Bayer matrix size must be a power of two >= 2, got {size}")
    m = np.array([[0, 2], [3, 1]])
    while m.shape[0] < size:
        m = np.block([[4 * m, 4 * m + 2], [4 * m + 3, 4 * m + 1]])
    return (m + 0.5) / (size * size)


@functools.lru_cache(maxsize=2)
def blue_noise_matrix(size: int = BLUE_NOISE_SIZE) -> NDArray[np.float64]:
    """A ``size`` x ``size`` blue-noise threshold map with values (rank + 0.5) / size**2 in (0, 1)."""
    n = size * size
    offsets = np.minimum(np.arange(size), size - np.arange(size))  # distances on the torus
    bump = np.exp(-(offsets[:, None] ** 2 + offsets[None, :] ** 2) / (2.0 * _SIGMA**2))

    def energy(pattern: NDArray[np.bool_]) -> NDArray[np.float64]:
        return np.real(np.fft.ifft2(np.fft.fft2(pattern) * np.fft.fft2(bump)))

    def add(field: NDArray[np.float64], at: int, sign: float) -> None:
        field += sign * np.roll(bump, divmod(at, size), axis=(0, 1))

    pattern = np.zeros((size, size), dtype=bool)
    pattern.flat[np.random.default_rng(_SEED).choice(n, n // 10, replace=False)] = True
    field = energy(pattern)
    while True:  # move the tightest cluster into the largest void until that changes nothing
        cluster = int(np.argmax(np.where(pattern, field, -np.inf)))
        pattern.flat[cluster] = False
        add(field, cluster, -1.0)
        void = int(np.argmin(np.where(pattern, np.inf, field)))
        pattern.flat[void] = True
        add(field, void, 1.0)
        if void == cluster:
            break
    ranks = np.zeros(n, dtype=np.int64)
    ones = int(pattern.sum())
    start, start_field = pattern.copy(), field.copy()
    for rank in range(ones - 1, -1, -1):  # phase 1: take the prototype's points away, tightest first
        cluster = int(np.argmax(np.where(pattern, field, -np.inf)))
        pattern.flat[cluster] = False
        add(field, cluster, -1.0)
        ranks[cluster] = rank
    pattern, field = start, start_field
    for rank in range(ones, n):  # phases 2 and 3: fill the largest void, one point at a time
        void = int(np.argmin(np.where(pattern, np.inf, field)))
        pattern.flat[void] = True
        add(field, void, 1.0)
        ranks[void] = rank
    matrix = (ranks.reshape(size, size) + 0.5) / n
    matrix.setflags(write=False)  # one map per process, shared by every conversion
    return matrix
