"""sqlite-utils, imported without numpy: every module of this package takes it from here.

On import, sqlite-utils tries numpy and pandas only to map their column types to SQLite types.
Backchain never stores such values, and numpy alone costs a tenth of a second or more at start,
where the bot and `backchain ask` want it least. So sqlite-utils is first imported with both seen
as not installed (`backchain.imports.without`); numpy (the charts' matplotlib) still imports and
works as usual afterwards. Already imported, they are left alone and sqlite-utils maps their types.
"""

from __future__ import annotations

from backchain.imports import without

with without("numpy", "pandas"):
    import sqlite_utils
    from sqlite_utils import Database
    from sqlite_utils.migrations import Migrations

__all__ = ["Database", "Migrations", "sqlite_utils"]
