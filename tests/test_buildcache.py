"""The build cache: a hit for the same inputs and code, a rebuild for anything else."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from backchain.bot import buildcache, yamlfile
from backchain.bot import content as content_module
from backchain.bot.chat import messages
from backchain.bot.content import PARTS, build_matcher, load_content, open_content
from backchain.bot.errors import ContentError
from backchain.bot.routine import care, precautions
from backchain.bot.understanding import followup, safety


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


def matcher_entries(folder: Path) -> list[Path]:
    return [p for p in folder.glob("*.pickle") if not p.name.startswith("content-")]


def test_a_cached_matcher_answers_like_a_built_one(folder: Path, tmp_path: Path) -> None:
    built = build_matcher(open_content(None))
    assert len(matcher_entries(folder)) == 1
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
    assert len(matcher_entries(folder)) == 2


def test_an_unwritable_folder_only_costs_the_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocked = tmp_path / "file-not-folder"
    blocked.write_text("")
    monkeypatch.setenv("BACKCHAIN_CACHE_DIR", str(blocked / "cache"))
    assert buildcache.cached("k", lambda: 1) == 1
    assert buildcache.cached("k", lambda: 2) == 2


def test_content_read_back_is_the_content_built(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    built = load_content(None)
    assert built.follow_ups.remember_minutes > 0
    kept = {p.name.split("-")[1] for p in folder.glob("content-*.pickle")}
    assert kept == set(PARTS) - {"red_flags"} | {"follow_ups"}  # red flags: a cache of their own

    def no_yaml(path: Path) -> None:
        raise AssertionError(f"{path} parsed again")

    for module in (messages, followup, precautions, care, safety):
        monkeypatch.setattr(module, "read_yaml_mapping", no_yaml)
    monkeypatch.setattr(yamlfile, "read_yaml_mapping", no_yaml)
    again = load_content(None)
    assert again.follow_ups == built.follow_ups
    for part in kept - {"messages"}:
        assert getattr(again, part) == getattr(built, part), part
    assert vars(again.messages) == vars(built.messages)  # Messages has no __eq__ of its own


def test_edited_content_is_read_again_and_broken_content_always_fails(
    folder: Path, tmp_path: Path
) -> None:
    copy = tmp_path / "content"
    shutil.copytree(open_content(None).directory, copy)
    assert "Edited help." not in load_content(copy).messages("help")
    path = copy / "messages.yaml"
    original = path.read_text(encoding="utf-8")
    path.write_text(original.replace("\nhelp: |\n", "\nhelp: |\n  Edited help.\n", 1), "utf-8")
    assert load_content(copy).messages("help").startswith("Edited help.")
    path.write_text(original + "\nhelp: [unclosed\n", "utf-8")
    for _ in range(2):
        with pytest.raises(ContentError, match="messages.yaml"):
            load_content(copy)


def test_a_change_in_the_code_is_a_new_fingerprint(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = open_content(None)._fingerprint
    sources = buildcache.package_sources()
    monkeypatch.setattr(buildcache, "package_sources", lambda: [*sources, b"# one more line"])
    assert open_content(None)._fingerprint not in (before, None)


def test_other_installed_zones_build_another_time_zone_index(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    load_content(None)
    monkeypatch.setattr(content_module, "_installed_zones", lambda: b"2099a\nEurope/Nowhere")
    assert open_content(None).timezones.keys  # built again, under a key of its own
    assert len(list(folder.glob("content-timezones-*.pickle"))) == 2
