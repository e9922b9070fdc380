"""Importing a library without the optional extras it loads whenever they are installed.

Some libraries try `import extra` at import time and carry on without it on ImportError
(sqlite-utils with numpy, httpx with its command line, httpcore with trio). When Backchain never
uses the extra, loading it only slows the start. `sys.modules[name] = None` makes
`import name` raise ImportError; `without` sets that mark for the imports inside it only, then
removes it, so the extra still imports and works as usual for whoever asks for it later.

Marks apply to the whole process while they last: use `without` on the main thread at start,
before any worker thread runs, around the first import of the library.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def without(*names: str) -> Iterator[None]:
    """Imports inside see the modules `names` as not installed, unless already imported."""
    marked = [name for name in names if name not in sys.modules]
    for name in marked:
        sys.modules[name] = None  # type: ignore[assignment]
    try:
        yield
    finally:
        for name in marked:
            if name in sys.modules and sys.modules[name] is None:
                del sys.modules[name]
