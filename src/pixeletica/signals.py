"""SIGTERM and SIGINT as a :class:`threading.Event`, for long-running loops to stop on.

A Python signal handler runs in the main thread between any two bytecodes, even inside
``Event.wait`` or ``Event.set`` while they hold the event's lock: a handler that calls
``stop.set()`` itself can then wait for ever on a lock its own thread holds, and the process
never stops. So the handlers here do nothing; the C-level handler writes the signal's number
to a pipe (``signal.set_wakeup_fd``), and a thread reading that pipe sets the event.
"""

from __future__ import annotations

import os
import signal
import threading

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


def stop_event() -> threading.Event:
    """An event set when this process gets SIGTERM or SIGINT. Call it from the main thread."""
    stop = threading.Event()
    read, write = os.pipe()
    os.set_blocking(write, False)
    signal.set_wakeup_fd(write, warn_on_full_buffer=False)
    for number in STOP_SIGNALS:
        signal.signal(number, _noted)
    threading.Thread(target=_relay, args=(read, stop), name="stop-signals", daemon=True).start()
    return stop


def _noted(number: int, frame: object) -> None:
    """The signal's number is already in the wake-up pipe; nothing else may happen here."""


def _relay(read: int, stop: threading.Event) -> None:
    wanted = {int(number) for number in STOP_SIGNALS}
    while data := os.read(read, 64):
        if wanted.intersection(data):
            stop.set()
