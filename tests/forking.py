"""Run a function in a forked child, for what must hold in a process forked from ours
(gunicorn workers): its result comes back through a pipe, and a child that hangs fails
the test instead of hanging the suite."""

import os
import signal
import time
from collections.abc import Callable


def in_forked_child(child: Callable[[], bytes], *, timeout: float = 30) -> bytes:
    """child() in a fork of this process; its bytes (at most 4 KiB), or AssertionError
    when it has not finished within `timeout` seconds."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.write(write, child())
        finally:
            os._exit(0)
    try:
        deadline = time.monotonic() + timeout
        while os.waitpid(pid, os.WNOHANG) == (0, 0):
            if time.monotonic() > deadline:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                raise AssertionError(f"the forked child did not finish within {timeout} s")
            time.sleep(0.01)
        os.set_blocking(read, False)
        try:
            return os.read(read, 4096)
        except BlockingIOError:
            return b""
    finally:
        os.close(read)
        os.close(write)
