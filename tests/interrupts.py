"""Stopping a piece of code at every point where a signal's handler could raise, one run per point."""

from __future__ import annotations

import dis
import gc
import itertools
import sys


class Interrupted(BaseException):
    """What a stop signal's handler raises (like KeyboardInterrupt): not an Exception."""


def _interrupted_at(step: int, write) -> bool:
    """Run ``write()`` raising :class:`Interrupted` before its ``step``-th bytecode, in whichever function,
    as a signal's Python handler can; whether it was interrupted (False: it finished in fewer steps).

    Every bytecode but a NOP: the interpreter never runs a handler there, and no ``except`` covers
    the NOP that marks a ``try:`` line, so an exception raised there is one no real signal can cause.
    """
    count = 0
    raised_at = None

    def trace(frame, event, arg):
        nonlocal count, raised_at
        frame.f_trace_opcodes = True
        if event == "opcode" and frame.f_code.co_code[frame.f_lasti] != dis.opmap["NOP"]:
            count += 1
            if count == step:
                raised_at = f"{frame.f_code.co_filename}:{frame.f_lineno}"
                raise Interrupted  # a trace function's exception surfaces in the traced code, then tracing stops
        return trace

    # no collection meanwhile: the code of a collector's callback (a metrics library's, say) would be
    # traced too, and an exception raised there is swallowed, not raised in the code under test
    collecting = gc.isenabled()
    gc.disable()
    tracing = sys.gettrace()  # a debugger's or coverage's, given back afterwards
    sys.settrace(trace)
    try:
        write()
    except Interrupted:
        return True
    finally:
        sys.settrace(tracing)
        if collecting:
            gc.enable()
    # finishing after the exception was raised means something swallowed it: the sweep would end early
    assert raised_at is None, f"the interruption at {raised_at} was swallowed"
    return False


def interrupt_everywhere(folder, write, check, settle=lambda: None) -> int:
    """Interrupt ``write`` at each of its bytecodes in turn, checking the folder after each; how many.

    ``settle`` runs after each, outside the interruptions (to let go of what ``write`` kept).
    """
    for step in itertools.count(1):
        before = contents(folder)
        interrupted = _interrupted_at(step, write)
        settle()
        after = contents(folder)
        assert not [name for name in after if name.endswith(".tmp")], f"interrupted at step {step}"
        check(before, after, interrupted)
        if not interrupted:
            return step


def contents(folder) -> dict[str, bytes | None]:
    """Each file's bytes and each folder (None) under ``folder``, by relative path."""
    return {
        path.relative_to(folder).as_posix(): path.read_bytes() if path.is_file() else None for path in folder.rglob("*")
    }
