"""The compiled tables kept on disk, so that start-up skips reading and compiling the terms.

The cache file is named by a hash of the content file and of the code that compiles it, so any
change to either builds afresh. It lives in the user's cache folder (`$BACKCHAIN_CACHE_DIR`, else
`$XDG_CACHE_HOME/backchain`, else `~/.cache/backchain`; an empty `BACKCHAIN_CACHE_DIR` turns it
off). It is JSON, never code, and a cache that cannot be read or written is simply not used.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import msgspec
from backchain.bot.understanding.redflags.screen import (
    Alternative,
    Concept,
    Group,
    Needs,
    Negation,
    RedFlagScreen,
    Rule,
)
from backchain.bot.understanding.redflags.terms import requirement_from_json, requirement_to_json

CACHE_ENV = "BACKCHAIN_CACHE_DIR"
_CODE = ("terms.py", "loading.py", "normalize.py", "screen.py", "cache.py")


def cache_dir() -> Path | None:
    # The one cache folder of the build cache ("off" or empty: none).
    from backchain.bot import buildcache

    return buildcache.cache_dir()


def cache_key(content: bytes) -> str:
    digest = hashlib.sha256(content)
    here = Path(__file__).parent
    for name in _CODE:
        digest.update((here / name).read_bytes())
    return digest.hexdigest()[:32]


def read(key: str) -> RedFlagScreen | None:
    folder = cache_dir()
    if folder is None:
        return None
    try:
        data = msgspec.json.decode((folder / f"red_flags-{key}.json").read_bytes())
        return _screen(data)
    except (OSError, ValueError, KeyError, TypeError, AttributeError, msgspec.DecodeError):
        return None


def write(key: str, screen: RedFlagScreen) -> None:
    folder = cache_dir()
    if folder is None:
        return
    try:
        folder.mkdir(parents=True, exist_ok=True)
        text = json.dumps(_tables(screen), separators=(",", ":"))
        with tempfile.NamedTemporaryFile(
            "w", encoding="utf-8", dir=folder, prefix=".red_flags-", delete=False
        ) as out:
            out.write(text)
        os.replace(out.name, folder / f"red_flags-{key}.json")
    except OSError:
        return


def _tables(screen: RedFlagScreen) -> dict[str, Any]:
    parts = screen.parts()
    return {
        "rules": [
            {
                "id": rule.id,
                "level": rule.level,
                "label": rule.label,
                "advice": rule.advice,
                "alternatives": [
                    [[list(group.names), group.max_words] for group in alternative.groups]
                    for alternative in rule.alternatives
                ],
            }
            for rule in parts.rules
        ],
        "concepts": {name: _concept_tables(c) for name, c in parts.concepts.items()},
        "negation": [parts.negation.before, parts.negation.after],
        "not_symptoms": _concept_tables(parts.not_symptoms) if parts.not_symptoms else None,
        "typos": parts.typos,
    }


def _concept_tables(concept: Concept) -> dict[str, Any]:
    return {
        "fragments": concept.fragments,
        "keys": sorted(concept.keys) if concept.keys is not None else None,
        "single": sorted(concept.single_keys),
        "combined": {
            key: [[sorted(keys) for keys in sets] for sets in others]
            for key, others in concept.combined_keys.items()
        },
        "starters": (
            {key: list(v) for key, v in concept.starters.items()}
            if concept.starters is not None
            else None
        ),
        "needs": [
            [[sorted(keys) for keys in key_sets], requirement_to_json(requirement)]
            for key_sets, requirement in concept.needs
        ],
    }


def _concept(data: dict[str, Any]) -> Concept:
    return Concept(
        list(data["fragments"]),
        frozenset(data["keys"]) if data["keys"] is not None else None,
        frozenset(data["single"]),
        {
            key: tuple(tuple(frozenset(keys) for keys in sets) for sets in others)
            for key, others in data["combined"].items()
        },
        (
            {key: tuple(v) for key, v in data["starters"].items()}
            if data["starters"] is not None
            else None
        ),
        decode_needs=functools.partial(_needs, data["needs"]),
    )


def _needs(raw: list[Any]) -> list[Needs]:
    return [
        (tuple(frozenset(keys) for keys in key_sets), requirement_from_json(requirement))
        for key_sets, requirement in raw
    ]


def _screen(data: dict[str, Any]) -> RedFlagScreen:
    rules = [
        Rule(
            id=raw["id"],
            level=raw["level"],
            label=raw["label"],
            advice=raw["advice"],
            alternatives=tuple(
                Alternative(tuple(Group(tuple(names), max_words) for names, max_words in groups))
                for groups in raw["alternatives"]
            ),
        )
        for raw in data["rules"]
    ]
    before, after = data["negation"]
    not_symptoms = data["not_symptoms"]
    return RedFlagScreen(
        rules=rules,
        concepts={name: _concept(raw) for name, raw in data["concepts"].items()},
        negation=Negation(before, after),
        not_symptoms=_concept(not_symptoms) if not_symptoms is not None else None,
        typos=dict(data["typos"]),
    )
