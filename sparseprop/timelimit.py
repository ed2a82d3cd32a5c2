"""A wall-clock limit for symbolic work (SymPy has no timeout of its own)."""
import contextlib
import signal
import threading
import time


class _Expired(BaseException):
    """Raised inside the limited block; a BaseException so SymPy's `except Exception` cannot swallow it."""


class TimeLimitExceeded(Exception):
    """The limited block ran past its time limit."""


@contextlib.contextmanager
def time_limit(seconds, what):
    """Run the block for at most `seconds` of wall time, then raise TimeLimitExceeded(what).

    Uses SIGALRM, so the limit applies in the main thread only (elsewhere the block runs unlimited).
    The alarm repeats every 0.25 s after the deadline in case library code catches the first one;
    a block that ends after an alarm raises too (an alarm can land where Python ignores it: in
    a garbage collector's callback).
    """
    if seconds is None or threading.current_thread() is not threading.main_thread():
        yield
        return

    expired, done = [], []

    def _fire(signum, frame):
        if not done:   # (after the block: nothing to stop)
            expired.append(True)
            raise _Expired()

    outer, _ = signal.getitimer(signal.ITIMER_REAL)  # nested: the inner limit never extends the outer
    limit = max(float(seconds), 1e-3) if not outer else min(max(float(seconds), 1e-3), outer)
    previous = signal.signal(signal.SIGALRM, _fire)
    start = time.monotonic()
    signal.setitimer(signal.ITIMER_REAL, limit, 0.25)
    try:
        yield
        done.append(True)
        if expired:
            raise _Expired()
    except _Expired:
        raise TimeLimitExceeded(f"{what} took longer than {limit:g} s") from None
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        if outer:
            signal.setitimer(signal.ITIMER_REAL, max(outer - (time.monotonic() - start), 1e-3), 0.25)
