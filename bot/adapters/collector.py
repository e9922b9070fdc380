"""Starting without the cyclic garbage collector.

A start builds hundreds of thousands of objects that live as long as the process: modules,
content, the matcher's and the red-flag screen's tables. While they are built, the collector
would walk them again and again (some 240 collections, about 0.1 s of a bot start). So `main`
turns it off until the process is up (`started`): then everything built so far is frozen out of
the collector's sight (`gc.freeze`, as Python's documentation suggests for long-lived start-up
objects) and it runs as usual on what comes after. A short command that never says it has
started (one `backchain ask`) simply returns with the collector off.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

_paused = False  # off by `off_until_started`, until `started`


@contextmanager
def off_until_started() -> Iterator[None]:
    """No collection until `started()`; on leaving, the collector is as it was before."""
    global _paused
    was_enabled = gc.isenabled()
    gc.disable()
    _paused = True
    try:
        yield
    finally:
        _paused = False
        # Into the oldest generation, all at once: re-enabled on a young generation of every
        # object made since the start, the collector would walk them all at the next allocation.
        gc.freeze()
        gc.unfreeze()
        if was_enabled:
            gc.enable()


def started() -> None:
    """The process is up: what it built stays out of the collector's sight, which runs again.
    Nothing to do unless `off_until_started` turned the collector off (a test calling a runner)."""
    global _paused
    if _paused:
        _paused = False
        gc.freeze()
        gc.enable()
