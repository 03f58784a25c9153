"""No orphans: extraction processes die with the parser that started them.

A parser killed with SIGKILL cannot shut its pool down, and multiprocessing's forkserver and
its workers would live on under init. On Linux the kernel can deliver a signal to a process
when its parent dies (prctl PR_SET_PDEATHSIG): the forkserver asks for it when it imports
this module (it is a forkserver preload), each worker when it starts.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import sys

_PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """Ask for SIGKILL when the parent process dies (Linux; elsewhere nothing happens)."""
    if not sys.platform.startswith("linux"):
        return
    parent = os.getppid()
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the parent died before the request took effect
        os._exit(1)


def in_forkserver() -> bool:
    # The forkserver runs as `python -c "from multiprocessing.forkserver import main; ..."`
    # and imports its preload modules from there; the parser itself never has argv ["-c"].
    return sys.argv[:1] == ["-c"] and "multiprocessing.forkserver" in sys.modules


if in_forkserver():
    die_with_parent()
