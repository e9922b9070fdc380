"""sqlite-utils, imported without numpy: every module of this package takes it from here.

On import, sqlite-utils tries `import numpy` (and pandas) only to map numpy and pandas column
types to SQLite types. Backchain never stores such values, and numpy costs a tenth of a second or
more at start, where the bot and `backchain ask` want it least. So the first import of sqlite-utils
runs with numpy and pandas marked as absent (`sys.modules[name] = None` makes `import name` raise
ImportError, which sqlite-utils expects), and the marks are removed at once, so numpy (the
charts' matplotlib) imports and works as usual afterwards. Already imported, they stay as they
are, and sqlite-utils gets their column types as usual.

The marks last only for the first import of sqlite-utils, which the bot and the command line do
on the main thread before they start any worker thread.
"""

from __future__ import annotations

import sys

_HIDDEN = ("numpy", "pandas")

if "sqlite_utils.db" in sys.modules:
    import sqlite_utils
else:
    _marked = [name for name in _HIDDEN if name not in sys.modules]
    for _name in _marked:
        sys.modules[_name] = None  # type: ignore[assignment]
    try:
        import sqlite_utils
    finally:
        for _name in _marked:
            if sys.modules.get(_name, 0) is None:
                del sys.modules[_name]

from sqlite_utils import Database  # noqa: E402
from sqlite_utils.migrations import Migrations  # noqa: E402

__all__ = ["Database", "Migrations", "sqlite_utils"]
