"""All content in one validated bundle: topics, red flags, messages, the program, small talk,
precautions, safety words, session care and time zone aliases.

Each part is read and validated the first time it is used; `load_content` reads every part at
once (the bot and `backchain content check` fail at start on any broken file), while
`open_content` lets a one-shot command (`backchain ask`) read only the parts it needs.

Most parts are kept in the build cache once validated (see `Content._built`), so a start reads
them back instead of parsing YAML, as long as no content file and no line of code changed.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from backchain.bot.errors import ContentError

if TYPE_CHECKING:
    from backchain.bot.chat.messages import Messages
    from backchain.bot.routine.care import SessionCare
    from backchain.bot.routine.precautions import Precautions
    from backchain.bot.routine.program import Program
    from backchain.bot.routine.timezones import TimezoneIndex
    from backchain.bot.understanding.followup import FollowUpRules
    from backchain.bot.understanding.matcher import Matcher
    from backchain.bot.understanding.redflags import RedFlagScreen
    from backchain.bot.understanding.safety import SafetyWords
    from backchain.bot.understanding.smalltalk import SmallTalk
    from backchain.bot.understanding.topics import Topic

_Part = TypeVar("_Part")


class Content:
    """The content of one directory; each part is loaded once, on first use."""

    def __init__(self, directory: Path):
        self.directory = directory

    @cached_property
    def topics(self) -> dict[str, Topic]:
        from backchain.bot.understanding.topics import load_topics

        return self._built("topics", lambda: load_topics(self.directory / "topics"))

    @cached_property
    def red_flags(self) -> RedFlagScreen:
        # Not kept here: the red-flag loader caches its compiled tables itself.
        from backchain.bot.understanding.redflags import load_red_flags

        return load_red_flags(self.directory / "red_flags.yaml")

    @cached_property
    def messages(self) -> Messages:
        from backchain.bot.chat.messages import load_messages

        return self._built("messages", lambda: load_messages(self.directory / "messages.yaml"))

    @cached_property
    def program(self) -> Program:
        from backchain.bot.routine.program import load_program

        return self._built(
            "program", lambda: load_program(self.directory / "program.yaml", self.topics)
        )

    @cached_property
    def smalltalk(self) -> SmallTalk:
        from backchain.bot.understanding.smalltalk import load_smalltalk

        return self._built(
            "smalltalk",
            lambda: load_smalltalk(self.directory / "smalltalk.yaml", set(self.messages.keys())),
        )

    @cached_property
    def precautions(self) -> Precautions:
        from backchain.bot.routine.precautions import load_precautions

        return self._built(
            "precautions",
            lambda: load_precautions(self.directory / "health.yaml", self.program.steps),
        )

    @cached_property
    def care(self) -> SessionCare:
        from backchain.bot.routine.care import load_care

        def build() -> SessionCare:
            program = self.program
            phases = {phase.id for phase in program.phases}
            return load_care(self.directory / "program.yaml", phases, set(program.steps))

        return self._built("care", build)

    @cached_property
    def safety(self) -> SafetyWords:
        from backchain.bot.understanding.safety import load_safety_words

        def build() -> SafetyWords:
            conditions = [(c.topic, c.mentions) for c in self.precautions.ordered()]
            return load_safety_words(self.directory / "safety.yaml", conditions, set(self.topics))

        return self._built("safety", build)

    @cached_property
    def timezones(self) -> TimezoneIndex:
        from backchain.bot.routine.timezones import build_index

        return self._built(
            "timezones",
            lambda: build_index(self.directory / "timezone_aliases.yaml"),
            _installed_zones,
        )

    @cached_property
    def follow_ups(self) -> FollowUpRules:
        """The rules of the conversation's thread (conversation.yaml), read by the understander;
        not one of PARTS, so `backchain content check` reads what it always read."""
        from backchain.bot.understanding.followup import load_follow_ups

        return self._built(
            "follow_ups",
            lambda: load_follow_ups(self.directory / "conversation.yaml", set(self.topics)),
        )

    @cached_property
    def _fingerprint(self) -> str | None:
        """A hash of every content file and of all the bot's code: a part kept under it is
        exactly what these files and this code build. None without a build cache."""
        from backchain.bot import buildcache

        if buildcache.cache_dir() is None:
            return None
        try:
            files = buildcache.files_of(self.directory, (*FILES, "conversation.yaml"))
        except OSError:  # a missing file: its part raises ContentError when it is read
            return None
        return buildcache.key_of("content", [*files, *buildcache.package_sources()], ())

    def _built(
        self, part: str, build: Callable[[], _Part], more: Callable[[], bytes] | None = None
    ) -> _Part:
        """The part `build` makes, from the build cache when these files and this code (and
        `more()`, whatever else the part is built from) have built and validated it before.
        A broken file is never kept: it raises every time."""
        from backchain.bot import buildcache

        fingerprint = self._fingerprint
        if fingerprint is None:
            return build()
        if more is not None:
            fingerprint = buildcache.key_of(part, [fingerprint.encode(), more()], ())
        return buildcache.cached(f"content-{part}-{fingerprint}", build)

    def load_all(self) -> Content:
        """Read and validate every part now; the first broken file raises ContentError."""
        for part in PARTS:
            getattr(self, part)
        return self

    def topics_in_group(self, group: str) -> list[Topic]:
        return [topic for topic in self.topics.values() if topic.group == group]

    def __repr__(self) -> str:
        return f"Content({str(self.directory)!r})"


# The file (or folder) each part is read from: all must exist even before they are read.
FILES = (
    "topics",
    "messages.yaml",
    "program.yaml",
    "red_flags.yaml",
    "smalltalk.yaml",
    "health.yaml",
    "safety.yaml",
    "timezone_aliases.yaml",
    "vocabulary.yaml",
)
# Every part, in the order `load_all` reads them (a part's own dependencies load first anyway).
PARTS = (
    "topics",
    "messages",
    "program",
    "red_flags",
    "smalltalk",
    "precautions",
    "safety",
    "care",
    "timezones",
)


def _installed_zones() -> bytes:
    """What the time zone index is built from besides its file: the zones installed here and
    the tzdata release whose links name the old zones."""
    from zoneinfo import available_timezones

    try:
        import tzdata

        release = str(tzdata.__version__)
    except ImportError:
        release = "none"
    return "\n".join([release, *sorted(available_timezones())]).encode()


def default_content_dir() -> Path:
    """The content shipped with the package (works from a checkout and after `pip install .`)."""
    return Path(str(resources.files("backchain.content")))


def open_content(directory: Path | None = None) -> Content:
    """The content under `directory` (default: the packaged content), read part by part."""
    root = directory or default_content_dir()
    if not root.is_dir():
        raise ContentError(str(root), "content directory is missing")
    for name in FILES:
        if not (root / name).exists():
            raise ContentError(str(root / name), "file is missing")
    return Content(root)


def load_content(directory: Path | None = None) -> Content:
    """Load and validate every content file under `directory` (default: the packaged content)."""
    return open_content(directory).load_all()


def build_matcher(content: Content) -> Matcher:
    """The topic matcher for this content: topics, their vocabulary and the safety words.

    Here, beside the content, so that `backchain ask` builds exactly the bot's matcher without
    importing the storage layer.
    """
    from backchain.bot import buildcache
    from backchain.bot.understanding.matcher import Matcher

    def build() -> Matcher:
        vocabulary = content.directory / "vocabulary.yaml"
        return Matcher.build(content.topics, vocabulary, content.safety)

    # Read back from the build cache when no file it is built from, and none of the code that
    # builds it, changed: then neither the topics nor the health screen are even parsed.
    key = buildcache.key_of(
        "matcher", buildcache.files_of(content.directory, MATCHER_FILES), MATCHER_CODE
    )
    return buildcache.cached(key, build)


# What the matcher is built from (health.yaml and program.yaml through the safety words).
MATCHER_FILES = ("topics", "vocabulary.yaml", "safety.yaml", "health.yaml", "program.yaml")
MATCHER_CODE = (
    "backchain.text",
    "backchain.bot.content",
    "backchain.bot.yamlfile",
    "backchain.bot.routine.precautions",
    "backchain.bot.routine.program",
    "backchain.bot.understanding.matcher",
    "backchain.bot.understanding.rules",
    "backchain.bot.understanding.safety",
    "backchain.bot.understanding.textnorm",
    "backchain.bot.understanding.topics",
    "backchain.bot.understanding.vocabulary",
)
