"""SIGTERM and SIGHUP unwind the program like Ctrl-C, so cleanup code runs and no worker outlives the run.

By default SIGTERM (sent by ``timeout``, SLURM at the time limit or on ``scancel``, ``kill``) and SIGHUP (the
terminal closed) end the process at once: no ``finally`` block runs, so temporary files stay and the joblib
workers, orphaned, go on computing and writing cache files.  :func:`handle_termination` makes them raise
:class:`Terminated` (a ``SystemExit`` with exit status 128 + the signal number, 143 for SIGTERM) in the main
thread instead, as SIGINT raises ``KeyboardInterrupt``: ``finally`` blocks and context managers run
(:func:`core._atomic.atomic_path` removes its temporary file), ``joblib.Parallel`` kills its workers, and
:func:`physics.ising.generate_dataset` removes the temporary files of killed workers.  ``except Exception``
does not catch it, and code that catches ``KeyboardInterrupt`` to stop training early does not either.

A repeated signal while the program unwinds is ignored for :data:`GRACE_SECONDS`, so the cleanup is not cut
short; after that, it ends the process at once (the default action). SIGKILL cannot be handled: what a
SIGKILLed run leaves is removed by :func:`core._atomic.remove_stale_temporaries` in a later run.
"""

from __future__ import annotations

import os
import signal
import threading
import time

__all__ = ["Terminated", "handle_termination", "GRACE_SECONDS"]

#: seconds after the first signal during which a repeated one is ignored
GRACE_SECONDS = 30.0
_SIGNALS = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name))
_first_signal_at: float | None = None


class Terminated(SystemExit):
    """Raised in the main thread by a termination signal; exit status 128 + signal number."""

    def __init__(self, signum: int):
        super().__init__(128 + signum)
        self.signum = signum

    def __str__(self) -> str:
        return f"terminated by {signal.Signals(self.signum).name}"


def _handler(signum, frame) -> None:
    global _first_signal_at
    name = signal.Signals(signum).name
    if _first_signal_at is None:
        _first_signal_at = time.monotonic()
        os.write(2, f"\n{name} received: stopping workers and removing temporary files.\n".encode())
        raise Terminated(signum)
    if time.monotonic() - _first_signal_at < GRACE_SECONDS:
        os.write(2, f"{name} received again: still cleaning up (repeat after {GRACE_SECONDS:g} s to stop at "
                    f"once).\n".encode())
        return
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)


def handle_termination() -> bool:
    """Install the handler for SIGTERM and SIGHUP (see the module docstring); call once, at the start.

    A signal whose disposition is not the default (ignored, as ``nohup`` does for SIGHUP, or handled by
    someone else) is left alone; calling it again changes nothing. Returns whether it was installed, False
    outside the main thread (where Python cannot install signal handlers).
    """
    if threading.current_thread() is not threading.main_thread():
        return False
    for signum in _SIGNALS:
        if signal.getsignal(signum) == signal.SIG_DFL:
            signal.signal(signum, _handler)
    return True
