"""Where compiled kernels are cached: one folder per version of the engine's source.

numba checks only the time stamp of the file that defines a kernel, so a kernel that inlines
code from another module would keep running stale machine code after that module changed. Keying
the cache folder on a hash of every engine source file makes a stale cache impossible, and keeps
the cache out of the (possibly read-only) installation. ``NUMBA_CACHE_DIR`` still wins if set.

numba refuses to define a cached kernel at all when it cannot write to its cache folder. Where the
user's cache cannot be written (a container run as a user without a home, or with a read-only file
system), the kernels go to a folder of this user's own in the temporary directory, which starts as
a copy of the user's cache folder when that exists: a container image's kernels, compiled when it
was built (2 MB), serve every user that runs it.

Every kernel is compiled with ``nogil=True``: a conversion that runs for seconds inside one kernel
must not stop its worker's heartbeat thread (the lease would run out under it) nor the API's
event loop while a preview is made.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import shutil
import tempfile
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


@functools.cache  # each module with kernels calls it: the folder is chosen (and checked) once a process
def configure_cache() -> None:
    """Point numba's cache at ``<user cache>/pixeletica/numba/<source digest>`` unless the user chose one."""
    if os.environ.get("NUMBA_CACHE_DIR"):
        return
    import numba

    digest = source_digest()
    folder = Path(platformdirs.user_cache_dir("pixeletica")) / "numba" / digest
    if not _writable(folder):
        folder = _private_copy(folder, digest)
    # numba.config creates its settings at import (from the environment), so its types do not list them.
    numba.config.CACHE_DIR = str(folder)  # type: ignore[attr-defined]


def _writable(folder: Path) -> bool:
    """Whether ``folder`` exists or can be made, and files can be written in it (as numba checks)."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        tempfile.TemporaryFile(dir=folder).close()
    except OSError:
        return False
    return True


def _private_copy(seed: Path, digest: str) -> Path:
    """A cache folder of this user's own in the temporary directory, filled from ``seed`` if it exists.

    The folder is reused by this user's later processes; one that someone else made (or a link) is not
    trusted, and a new folder of this process's own is used instead.
    """
    home = Path(tempfile.gettempdir()) / f"pixeletica-numba-{os.getuid()}"
    with contextlib.suppress(FileExistsError):
        home.mkdir(mode=0o700)
    status = home.lstat()
    if home.is_symlink() or status.st_uid != os.getuid() or status.st_mode & 0o022:
        home = Path(tempfile.mkdtemp(prefix="pixeletica-numba-"))
    folder = home / digest
    if not folder.is_dir():
        filling = Path(tempfile.mkdtemp(dir=home, prefix=f"{digest}."))
        if seed.is_dir():
            shutil.copytree(seed, filling, dirs_exist_ok=True)
        try:
            filling.rename(folder)  # whole or not at all; another process may have been first
        except OSError:
            shutil.rmtree(filling, ignore_errors=True)
    return folder
