"""All content in one validated bundle: topics, red flags, messages, the program, precautions."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from backchain.bot.chat.messages import Messages, load_messages
from backchain.bot.errors import ContentError
from backchain.bot.routine.care import SessionCare, load_care
from backchain.bot.routine.precautions import Precautions, load_precautions
from backchain.bot.routine.program import Program, load_program
from backchain.bot.understanding.matcher import Matcher
from backchain.bot.understanding.redflags import RedFlagScreen, load_red_flags
from backchain.bot.understanding.safety import SafetyWords, load_safety_words
from backchain.bot.understanding.smalltalk import SmallTalk, load_smalltalk
from backchain.bot.understanding.topics import Topic, load_topics


@dataclass(frozen=True)
class Content:
    directory: Path
    topics: dict[str, Topic]
    red_flags: RedFlagScreen
    messages: Messages
    program: Program
    smalltalk: SmallTalk
    precautions: Precautions
    safety: SafetyWords
    care: SessionCare

    def topics_in_group(self, group: str) -> list[Topic]:
        return [topic for topic in self.topics.values() if topic.group == group]


def default_content_dir() -> Path:
    """The content shipped with the package (works from a checkout and after `pip install .`)."""
    return Path(str(resources.files("backchain.content")))


def load_content(directory: Path | None = None) -> Content:
    """Load and validate every content file under `directory` (default: the packaged content)."""
    root = directory or default_content_dir()
    if not root.is_dir():
        raise ContentError(str(root), "content directory is missing")
    topics = load_topics(root / "topics")
    messages = load_messages(root / "messages.yaml")
    program = load_program(root / "program.yaml", topics)
    precautions = load_precautions(root / "health.yaml", program.steps)
    return Content(
        directory=root,
        topics=topics,
        red_flags=load_red_flags(root / "red_flags.yaml"),
        messages=messages,
        program=program,
        smalltalk=load_smalltalk(root / "smalltalk.yaml", set(messages.keys())),
        precautions=precautions,
        safety=load_safety_words(
            root / "safety.yaml",
            [(condition.topic, condition.mentions) for condition in precautions.ordered()],
            set(topics),
        ),
        care=load_care(root / "program.yaml", {p.id for p in program.phases}, set(program.steps)),
    )


def build_matcher(content: Content) -> Matcher:
    """The topic matcher for this content: topics, their vocabulary and the safety words.

    Here, beside the content, so that `backchain ask` builds exactly the bot's matcher without
    importing the storage layer.
    """
    return Matcher.build(content.topics, content.directory / "vocabulary.yaml", content.safety)
