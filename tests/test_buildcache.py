"""The build cache: a hit for the same inputs and code, a rebuild for anything else."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from backchain.bot import buildcache
from backchain.bot.content import build_matcher, open_content


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("BACKCHAIN_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_same_key_builds_once(folder: Path) -> None:
    builds: list[int] = []

    def build() -> dict[str, int]:
        builds.append(1)
        return {"answer": 42}

    key = buildcache.key_of("test", [b"input"], [buildcache])
    assert buildcache.cached(key, build) == buildcache.cached(key, build) == {"answer": 42}
    assert len(builds) == 1
    assert buildcache.key_of("test", [b"input!"], [buildcache]) != key


def test_a_broken_entry_is_rebuilt(folder: Path) -> None:
    key = buildcache.key_of("test", [b"x"], [])
    buildcache.cached(key, lambda: 1)
    (folder / f"{key}.pickle").write_bytes(b"not a pickle")
    assert buildcache.cached(key, lambda: 2) == 2
    assert buildcache.cached(key, lambda: 3) == 2


def test_off_builds_every_time(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BACKCHAIN_CACHE_DIR", "off")
    assert buildcache.cache_dir() is None
    assert buildcache.cached("k", lambda: 1) == 1
    assert buildcache.cached("k", lambda: 2) == 2


def test_a_cached_matcher_answers_like_a_built_one(folder: Path, tmp_path: Path) -> None:
    built = build_matcher(open_content(None))
    assert len(list(folder.glob("*.pickle"))) == 1
    content = open_content(None)
    cached = build_matcher(content)
    assert "topics" not in content.__dict__  # read back without parsing a topic file
    questions = (
        "why does my hip hurt",
        "what is the soleus",
        "sciatca",
        "knee pain stairs",
        "can I use the footballer on my varicose veins",
    )
    for question in questions:
        assert cached.match(question) == built.match(question)


def test_an_edited_file_is_a_new_entry(folder: Path, tmp_path: Path) -> None:
    copy = tmp_path / "content"
    shutil.copytree(open_content(None).directory, copy)
    build_matcher(open_content(copy))
    vocabulary = copy / "vocabulary.yaml"
    vocabulary.write_text(vocabulary.read_text(encoding="utf-8") + "\n# edited\n", "utf-8")
    build_matcher(open_content(copy))
    assert len(list(folder.glob("*.pickle"))) == 2


def test_an_unwritable_folder_only_costs_the_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocked = tmp_path / "file-not-folder"
    blocked.write_text("")
    monkeypatch.setenv("BACKCHAIN_CACHE_DIR", str(blocked / "cache"))
    assert buildcache.cached("k", lambda: 1) == 1
    assert buildcache.cached("k", lambda: 2) == 2
