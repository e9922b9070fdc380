"""A disk cache for what is slow to build from content and quick to read back (the matcher's
tables): keyed by a hash of everything the build reads and of the code that builds it, so an
edited content file or a new release never reads a stale entry.

`BACKCHAIN_CACHE_DIR` chooses the folder (default: $XDG_CACHE_HOME/backchain, else
~/.cache/backchain); set it to "off" to build every time. A cache that cannot be read or written
is ignored: the build simply runs.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
import pickle
import sys
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from types import ModuleType
from typing import TypeVar

logger = logging.getLogger(__name__)

_T = TypeVar("_T")


def cache_dir() -> Path | None:
    chosen = os.environ.get("BACKCHAIN_CACHE_DIR")
    if chosen is not None:
        return None if chosen.strip().lower() in ("", "off", "0", "none") else Path(chosen)
    try:
        base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    except RuntimeError:  # no home directory (a bare container user): build every time
        return None
    return Path(base) / "backchain"


def key_of(kind: str, data: Iterable[bytes], code: Iterable[ModuleType | str]) -> str:
    """A hash of the inputs' bytes and of the source files of the modules that build them.

    Modules may be given by name: their source is found without importing them."""
    digest = hashlib.sha256(f"{kind}\0{sys.version}\0".encode())
    for chunk in data:
        digest.update(len(chunk).to_bytes(8, "big") + chunk)
    for module in code:
        if isinstance(module, str):
            spec = importlib.util.find_spec(module)
            source = spec.origin if spec is not None else None
        else:
            source = getattr(module, "__file__", None)
        name = module if isinstance(module, str) else module.__name__
        digest.update(Path(source).read_bytes() if source else name.encode())
    return digest.hexdigest()[:32]


def files_of(root: Path, names: Iterable[str]) -> list[bytes]:
    """The bytes of each named file under `root` (a folder: its *.yaml files, sorted), each
    preceded by its name, so a renamed or moved file changes the key too."""
    chunks: list[bytes] = []
    for name in names:
        path = root / name
        for file in sorted(path.glob("*.yaml")) if path.is_dir() else [path]:
            chunks += [str(file.relative_to(root)).encode(), file.read_bytes()]
    return chunks


def package_sources() -> list[bytes]:
    """The source of every module of the bot package and of the root modules it shares, each
    preceded by its name: a key over them changes with any release or edit of that code."""
    import backchain.bot  # binds `backchain` too

    chunks: list[bytes] = []
    for package, pattern in ((backchain.bot, "**/*.py"), (backchain, "*.py")):
        folder = Path(str(package.__file__)).parent
        for file in sorted(folder.glob(pattern)):
            chunks += [str(file.relative_to(folder)).encode(), file.read_bytes()]
    return chunks


def cached(key: str, build: Callable[[], _T]) -> _T:
    """The value stored under `key`, or `build()` stored there for next time."""
    folder = cache_dir()
    path = None if folder is None else folder / f"{key}.pickle"
    if path is not None:
        try:
            with path.open("rb") as handle:
                value: _T = pickle.load(handle)
            return value
        except OSError:  # none yet, or a folder that cannot be read: just build
            pass
        except Exception:  # unreadable, truncated or foreign: build again and overwrite it
            logger.warning("unreadable cache entry %s, rebuilding", path)
    value = build()
    if path is not None:
        _store(path, value)
    return value


def _store(path: Path, value: object) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # Written aside and renamed: a reader never sees half a file, two writers never mix.
        with tempfile.NamedTemporaryFile(dir=path.parent, delete=False) as handle:
            pickle.dump(value, handle, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(handle.name, path)
    except OSError as exc:
        logger.info("build cache not written (%s)", exc)
