"""A burst of stop signals stops a loop that waits on the event, and never deadlocks it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

LOOP = """
from pixeletica import signals
stop = signals.stop_event()
print("ready", flush=True)
while not stop.wait(0.0001):
    pass
print("stopped", flush=True)
"""


def _loop() -> subprocess.Popen:
    child = subprocess.Popen([sys.executable, "-c", LOOP], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert child.stdout is not None and child.stdout.readline() == "ready\n"
    return child


def _burst(child: subprocess.Popen, count: int = 300) -> None:
    for _ in range(count):
        try:
            os.kill(child.pid, signal.SIGTERM)
        except ProcessLookupError:
            return


@pytest.mark.parametrize("round_", range(20))  # a handler that takes a lock deadlocks in about 1 run of 10
def test_a_burst_of_sigterms_stops_the_loop(round_):
    child = _loop()
    _burst(child)
    out, err = child.communicate(timeout=20)  # a deadlocked loop never gets here
    assert out == "stopped\n", err
    # A SIGTERM of the burst that lands while Python shuts down (default handlers again) ends it there.
    assert child.returncode in (0, -signal.SIGTERM), err


def test_sigint_stops_it_too_without_a_traceback():
    child = _loop()
    child.send_signal(signal.SIGINT)
    out, err = child.communicate(timeout=20)
    assert (child.returncode, out, err) == (0, "stopped\n", "")


@pytest.mark.parametrize("first", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP])
def test_once_a_command_is_stopped_no_second_signal_interrupts_its_clean_up(first):
    from pixeletica.cli.common import Stopped, unwinding_when_stopped

    handlers = {number: signal.getsignal(number) for number in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)}
    with pytest.raises((Stopped, KeyboardInterrupt)), unwinding_when_stopped():
        try:
            os.kill(os.getpid(), first)
            signal.sigtimedwait([], 0)  # let the handler run
        finally:  # the clean-up: every stopping signal, Ctrl-C included, is ignored now
            assert all(signal.getsignal(number) is signal.SIG_IGN for number in handlers)
    assert {number: signal.getsignal(number) for number in handlers} == handlers


@pytest.mark.parametrize("inside", [True, False])
def test_a_command_stopped_says_no_output_was_written_only_when_that_is_true(capsys, inside):
    """Within the block that writes files, a stop removes them; after it (printing the summary) they stay."""
    from pixeletica.cli import common

    @common.reports_errors
    def command() -> None:
        if inside:
            with common.unwinding_when_stopped():
                raise KeyboardInterrupt
        raise KeyboardInterrupt

    with pytest.raises(SystemExit) as exited:
        command()
    assert exited.value.code == 130
    said = capsys.readouterr().err
    assert said == ("interrupted; no output was written\n" if inside else "interrupted\n")
