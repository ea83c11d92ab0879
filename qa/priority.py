"""Who gets the CPU first while serving: every CPU-priority decision of the server is here.

The event loop serves /health, the pages and the bytes of every answer; answering is the heavy
work. On two cores with answers in flight, the event loop would otherwise wait its turn for a core
(and for the GIL) behind them, and /health with it (docs/benchmarks.md). So answers run below
it: in worker processes at a higher niceness, or, in the server process, on threads at a
smaller one. Raising one's own niceness needs no privilege.
"""

from __future__ import annotations

import os
import sys
import threading

# Below the server's event loop (niceness 0): a worker still gets any core nothing else wants.
WORKER_NICENESS = 10
# The server's own answering threads: below the event loop, above the workers' processes.
ANSWER_THREAD_NICENESS = 5
# Python hands the GIL over every 5 ms by default: under load, the event loop would wait that
# long behind answering threads each time it needs it. 1 ms keeps /health prompt.
SWITCH_INTERVAL_S = 0.001

_lowered = threading.local()


def favour_event_loop() -> None:
    """For a serving process: hand the GIL over sooner, so the event loop rarely waits for it."""
    sys.setswitchinterval(SWITCH_INTERVAL_S)


def lower_this_thread() -> None:
    """Run the calling thread below the event loop (Linux sets niceness per thread); once each."""
    if getattr(_lowered, "done", False):
        return
    _lowered.done = True
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), ANSWER_THREAD_NICENESS)
    except (AttributeError, OSError):  # not Linux, or not allowed: priorities stay equal
        pass


def lower_this_process() -> None:
    """Run this whole process (an answer worker) below the server's event loop."""
    try:
        os.nice(WORKER_NICENESS)
    except OSError:  # not allowed here: the worker runs at the server's priority
        pass
