"""Peak memory of a piece of work, measured in a fresh Python process (so Pillow's C buffers count too)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

_SCRIPT = """
import resource


def _status(key):
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024


def _reset_peak():
    # Writing 5 to clear_refs resets the kernel's peak-RSS mark (Linux 4.0+), so what the setup
    # allocated and freed does not hide the work's own peak.
    try:
        with open("/proc/self/clear_refs", "w") as refs:
            refs.write("5")
        return True
    except OSError:
        return False


{setup}
exact = _reset_peak()
before = _status("VmRSS") if exact else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
{work}
after = _status("VmHWM") if exact else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(after - before)
"""


def peak_increase(setup: str, work: str, *args: str) -> int:
    """Bytes by which the process's peak resident memory rises while ``work`` runs, after ``setup``.

    Both are Python source; ``args`` are passed on as ``sys.argv[1:]``.
    """
    script = _SCRIPT.format(setup=textwrap.dedent(setup), work=textwrap.dedent(work))
    done = subprocess.run([sys.executable, "-c", script, *args], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    return int(done.stdout.strip().splitlines()[-1])
