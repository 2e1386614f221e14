"""Previews made inside the API process without letting them take its memory or its CPUs.

A preview never decodes a large image at full size: it decodes at the smallest integer
reduction that still covers the preview's size (:func:`pixeletica.engine.reduced.load_reduced`),
then converts that. Each preview first reserves what it will need — the decoder's estimate
plus the conversion's working set — from a fixed memory budget (``PIXELETICA_PREVIEW_MEMORY``)
and takes one of a few slots (``PIXELETICA_PREVIEW_CONCURRENCY``); one that cannot get both
before its time limit is answered 503, one that could never fit the budget 400. The compiled
kernels are loaded once at start-up (:meth:`PreviewPool.warm_up`), so a preview's time limit
counts only its own work.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from pixeletica.engine import palette, pipeline, precompile, production, reduced
from pixeletica.errors import LimitExceeded, TimedOut, TransientError

log = logging.getLogger("pixeletica.api")

#: Bytes per pixel a conversion holds while it resizes and dithers (float planes, indices, error rows).
_WORKING_BYTES_PER_PIXEL = 48
#: A reduced decode is at most this many times the preview's pixels (f is the largest that still covers it).
_REDUCED_AREA = 4
#: A preview is the block grid alone (its picture is drawn by the endpoint); no files, no colour error.
PREVIEW = production.Plan(stem="preview", grid_only=True)


class PreviewPool:
    """Admits previews within a memory budget and a number of slots; see the module docstring."""

    def __init__(self, memory_budget: int, slots: int, timeout: float) -> None:
        self.memory_budget = memory_budget
        self.timeout = timeout
        self._reserved = 0
        self._running = 0
        self._slots = slots
        self._changed = threading.Condition()
        self._warm = threading.Event()

    def warm_up(self) -> None:
        """Load (or compile, the first time on a machine) every kernel a preview can use, off the request path:
        the reduced decoders, each dithering algorithm under each colour metric, and each kind of map art."""
        started = time.monotonic()
        try:
            precompile.run_preview_kernels()
        except Exception:  # a preview will meet (and report) the same problem; never stop the server for it
            log.exception("preview warm-up failed")
        finally:
            self._warm.set()
            log.info("previews ready: kernels loaded in %.1f s", time.monotonic() - started)

    def cost(self, data: bytes, width: int, height: int) -> int:
        """The bytes a preview of ``data`` at ``width`` x ``height`` blocks will hold at its peak."""
        decode = reduced.decode_cost(data, width, height)
        return decode + _REDUCED_AREA * width * height * _WORKING_BYTES_PER_PIXEL

    def run(
        self,
        data: bytes,
        chosen: palette.Palette,
        options: pipeline.ConvertOptions,
        max_pixels: int,
        plan: production.Plan = PREVIEW,
    ) -> production.Production:
        """The preview's conversion, once admitted; raises LimitExceeded, TransientError or TimedOut.

        ``options`` give the preview's size (for map art, its maps'); ``plan`` may ask for map art
        instead of a block picture, and must ask for no files (``grid_only``).
        """
        if not plan.grid_only:
            raise ValueError("a preview makes no files: its plan must be grid_only")
        assert options.width is not None and options.height is not None
        need = self.cost(data, options.width, options.height)
        if need > self.memory_budget:
            raise LimitExceeded(
                f"this image needs about {need / 2**20:.0f} MB to preview; previews may use "
                f"{self.memory_budget / 2**20:.0f} MB (PIXELETICA_PREVIEW_MEMORY): start the conversion instead, "
                "or preview a smaller size"
            )
        self._warm.wait(60)  # the first preview after a start waits for the kernels, not against its time limit
        deadline = time.monotonic() + self.timeout
        self._admit(need, deadline)
        try:
            loaded = reduced.load_reduced(data, options.width, options.height, max_pixels=max_pixels)
            return production.produce(loaded, chosen, options, plan, progress=_deadline_check(deadline, self.timeout))
        finally:
            with self._changed:
                self._reserved -= need
                self._running -= 1
                self._changed.notify_all()

    def _admit(self, need: int, deadline: float) -> None:
        with self._changed:
            while self._running >= self._slots or self._reserved + need > self.memory_budget:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TransientError("the server is busy making other previews; try again in a moment")
                self._changed.wait(left)
            self._reserved += need
            self._running += 1


def _deadline_check(deadline: float, limit: float) -> Callable[[float, str], None]:
    def check(fraction: float, step: str) -> None:
        if time.monotonic() > deadline:
            raise TimedOut(f"Preview generation timed out after {limit:g} seconds. Image may be too large for preview.")

    return check
