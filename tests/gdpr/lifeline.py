"""Tie a test worker's processes to the test run, so none outlives it."""

import contextlib
import ctypes
import os
import signal

PR_SET_PDEATHSIG = 1

# Looked up once here: die_with_parent also runs between fork and exec, where it should do no
# more than one system call (no library search, no import).
_prctl = None
with contextlib.suppress(OSError, AttributeError):
    _prctl = ctypes.CDLL(None, use_errno=True).prctl


def die_with_parent() -> None:
    """Receive SIGKILL when the parent process dies (Linux; a no-op elsewhere).

    A test run ended by SIGKILL (or a crashed interpreter) runs no teardown, and the test
    worker sits in a session of its own, so nothing else would stop it.
    """
    parent = os.getppid()
    if _prctl is not None:
        _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    # The parent may have died before the call; then nobody is left to wait for.
    if os.getppid() != parent:
        os._exit(1)
