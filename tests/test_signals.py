"""A burst of stop signals stops a loop that waits on the event, and never deadlocks it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

LOOP = """
import sys, threading
from pixeletica import signals
stop = {make}
print("ready", flush=True)
while not stop.wait(0.0001):
    pass
print("stopped", flush=True)
"""


def _loop(make: str) -> subprocess.Popen:
    child = subprocess.Popen(
        [sys.executable, "-c", LOOP.format(make=make)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert child.stdout is not None and child.stdout.readline() == "ready\n"
    return child


def _burst(child: subprocess.Popen, count: int = 300) -> None:
    for _ in range(count):
        try:
            os.kill(child.pid, signal.SIGTERM)
        except ProcessLookupError:
            return


@pytest.mark.parametrize("rounds", range(20))
def test_a_burst_of_sigterms_stops_the_loop(rounds):
    child = _loop("signals.stop_event()")
    _burst(child)
    out, err = child.communicate(timeout=20)
    assert child.returncode == 0, err
    assert out == "stopped\n"


def test_sigint_stops_it_too_without_a_traceback():
    child = _loop("signals.stop_event()")
    child.send_signal(signal.SIGINT)
    out, err = child.communicate(timeout=20)
    assert (child.returncode, out, err) == (0, "stopped\n", "")
