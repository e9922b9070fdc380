"""Replies to questions: a topic's answer, "did you mean", "not sure", and red-flag advice."""

from __future__ import annotations

import html

from backchain.bot.chat.callbacks import HealthOpen, NewSession, ShowGroup, ShowTopic
from backchain.bot.chat.replies import Button, Reply
from backchain.bot.content import Content
from backchain.bot.routine.plan import owned_with_kits
from backchain.bot.understanding.matcher import MatchResult
from backchain.bot.understanding.redflags import RedFlag
from backchain.bot.understanding.topics import GROUPS, Topic

RELATED_BUTTONS = 3
SAFETY_GROUP = "safety"
MAIN_TOPICS = ("hip-pain", "lower-back", "knee-pain", "sciatic-nerve", "biomechanical-chain")


def topic_button(topic: Topic) -> Button:
    return Button(topic.title, ShowTopic(topic.id).pack())


def topic_text(topic: Topic) -> str:
    """Title, summary and body as Telegram HTML."""
    body = "\n\n".join(html.escape(p, quote=False) for p in topic.paragraphs())
    title = html.escape(topic.title, quote=False)
    summary = html.escape(topic.summary, quote=False)
    return f"<b>{title}</b>\n<i>{summary}</i>\n\n{body}"


def topic_reply(topic: Topic, content: Content, owned_tools: list[str]) -> Reply:
    """A topic's answer with buttons for related topics and, if the user owns a tool, a session."""
    related = [content.topics[r] for r in topic.related[:RELATED_BUTTONS] if r in content.topics]
    rows: list[tuple[Button, ...]] = [(topic_button(r),) for r in related]
    if topic.group == SAFETY_GROUP:
        # A safety answer leads to the health screen, never straight into a routine.
        health = Button(content.messages("health_open_button"), HealthOpen().pack())
        rows.insert(0, (health,))
    elif set(topic.tools) & owned_with_kits(content.program, set(owned_tools)):
        rows.insert(0, (Button(content.messages("try_routine_button"), NewSession().pack()),))
    return Reply(topic_text(topic), tuple(rows))


def ambiguous_reply(result: MatchResult, content: Content) -> Reply:
    """ "Did you mean ...?" with one button per close candidate."""
    ids = [c.topic for c in result.candidates if c.topic in content.topics]
    if result.topic and result.topic not in ids:
        ids.insert(0, result.topic)
    rows = tuple((topic_button(content.topics[i]),) for i in dict.fromkeys(ids[:3]))
    return Reply(content.messages("did_you_mean"), rows)


def not_sure_reply(content: Content) -> Reply:
    """A friendly "I'm not sure" with the main topics as buttons."""
    rows = tuple((topic_button(content.topics[i]),) for i in MAIN_TOPICS if i in content.topics)
    return Reply(content.messages("not_sure"), rows)


def red_flag_reply(flag: RedFlag, content: Content) -> Reply:
    """The advice for the flag's level, alone: no topic, no routine, no buttons."""
    heading = content.messages(f"red_flag_heading_{flag.level}")
    return Reply(f"{heading}\n\n{html.escape(flag.advice.strip(), quote=False)}")


def groups_reply(content: Content) -> Reply:
    rows = tuple(
        (Button(content.messages(f"group_{group}"), ShowGroup(group).pack()),)
        for group in GROUPS
        if content.topics_in_group(group)
    )
    return Reply(content.messages("topics_intro"), rows)


def group_reply(group: str, content: Content) -> Reply | None:
    topics = content.topics_in_group(group)
    if not topics:
        return None
    buttons = [topic_button(t) for t in topics]
    rows = tuple(tuple(buttons[i : i + 2]) for i in range(0, len(buttons), 2))
    return Reply(content.messages("topics_group", group=content.messages(f"group_{group}")), rows)
