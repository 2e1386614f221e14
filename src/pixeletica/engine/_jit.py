"""Where compiled kernels are cached: one folder per version of the engine's source.

numba checks only the time stamp of the file that defines a kernel, so a kernel that inlines
code from another module would keep running stale machine code after that module changed. Keying
the cache folder on a hash of every engine source file makes a stale cache impossible, and keeps
the cache out of the (possibly read-only) installation. ``NUMBA_CACHE_DIR`` still wins if set.

Every kernel is compiled with ``nogil=True``: a conversion that runs for seconds inside one kernel
must not stop its worker's heartbeat thread (the lease would run out under it) nor the API's
event loop while a preview is made.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import platformdirs


def source_digest() -> str:
    """Hash of numba's version and every engine source file."""
    import numba

    digest = hashlib.sha256(numba.__version__.encode())
    for path in sorted(Path(__file__).resolve().parent.rglob("*.py")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def configure_cache() -> None:
    """Point numba's cache at ``<user cache>/pixeletica/numba/<source digest>`` unless the user chose one."""
    if os.environ.get("NUMBA_CACHE_DIR"):
        return
    import numba

    folder = Path(platformdirs.user_cache_dir("pixeletica")) / "numba" / source_digest()
    # numba.config creates its settings at import (from the environment), so its types do not list them.
    numba.config.CACHE_DIR = str(folder)  # type: ignore[attr-defined]
