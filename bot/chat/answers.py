"""Replies to questions: a topic's answer, "did you mean", "not sure", and red-flag advice."""

from __future__ import annotations

import html

from backchain.bot.chat.callbacks import (
    HealthOpen,
    NewSession,
    ShowGroup,
    ShowTopic,
    TopicCard,
    TopicFacet,
)
from backchain.bot.chat.replies import Button, Reply
from backchain.bot.content import Content
from backchain.bot.routine.plan import owned_with_kits, scaled_seconds
from backchain.bot.routine.program import Phase, Program, StepTemplate
from backchain.bot.understanding.matcher import MatchResult
from backchain.bot.understanding.redflags import RedFlag
from backchain.bot.understanding.topics import GROUPS, Topic
from backchain.bot.understanding.understand import CRISIS, Understanding

RELATED_BUTTONS = 3
SAFETY_GROUP = "safety"
# A short answer offers this many related topics beside "Tell me more".
SHORT_RELATED = 2
# Facets offered as buttons when a question repeats the answer just given.
SUGGESTED_FACETS = ("how", "dose", "tool", "avoid", "why")
# A facet answer is phone-sized: about this many characters of text.
FACET_CHARS = 400
# Topics with no programme step of their own borrow the doses of this many related topics.
BORROWED_DOSES = 2
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
    """A topic's whole card, with related topics and, if the user owns a tool, a session."""
    related = [content.topics[r] for r in topic.related[:RELATED_BUTTONS] if r in content.topics]
    rows = [*_session_row(topic, content, owned_tools), *((topic_button(r),) for r in related)]
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


# --- short answers and facets -------------------------------------------------------------


def answer(understanding: Understanding, content: Content, owned_tools: list[str]) -> Reply:
    """The reply to a question about a topic: the part asked for, phone-sized, or the whole card
    when more was asked for; a repeat of the answer just given offers its parts instead."""
    assert understanding.topic is not None
    topic = content.topics[understanding.topic]
    if understanding.more or topic.group == SAFETY_GROUP:
        # Safety advice moves a person to act, so it always comes whole, as its writer meant.
        return topic_reply(topic, content, owned_tools)
    if understanding.repeat:
        return repeat_reply(topic, content, owned_tools)
    if understanding.facet in (None, "what"):
        return short_reply(topic, content, owned_tools)
    return facet_reply(topic, understanding.facet or "what", content, owned_tools)


def _heading(topic: Topic) -> str:
    return f"<b>{html.escape(topic.title, quote=False)}</b>"


def _session_row(topic: Topic, content: Content, owned_tools: list[str]) -> list[tuple[Button]]:
    """ "Try it" when the user owns a tool for this topic; the health screen for a safety topic."""
    if topic.group == SAFETY_GROUP:
        # A safety answer leads to the health screen, never straight into a routine.
        return [(Button(content.messages("health_open_button"), HealthOpen().pack()),)]
    if set(topic.tools) & owned_with_kits(content.program, set(owned_tools)):
        return [(Button(content.messages("try_routine_button"), NewSession().pack()),)]
    return []


def _more_rows(
    topic: Topic, content: Content, owned_tools: list[str]
) -> tuple[tuple[Button, ...], ...]:
    related = [content.topics[r] for r in topic.related if r in content.topics][:SHORT_RELATED]
    more = Button(content.messages("more_button"), TopicCard(topic.id).pack())
    return (
        *_session_row(topic, content, owned_tools),
        (more,),
        *((topic_button(r),) for r in related),
    )


def short_reply(topic: Topic, content: Content, owned_tools: list[str]) -> Reply:
    """What the topic is in a few lines, with "Tell me more" and related topics."""
    text = html.escape(topic.facets.get("what", topic.summary), quote=False)
    return Reply(f"{_heading(topic)}\n{text}", _more_rows(topic, content, owned_tools))


def facet_reply(topic: Topic, facet: str, content: Content, owned_tools: list[str]) -> Reply:
    """The part of a topic asked for: its dose, tool, technique, reasons or what to avoid."""
    return Reply(
        f"{_heading(topic)}\n{facet_text(topic, facet, content)}",
        _more_rows(topic, content, owned_tools),
    )


def repeat_reply(topic: Topic, content: Content, owned_tools: list[str]) -> Reply:
    """The short answer again, with the topic's parts as buttons instead of the same card."""
    text = html.escape(topic.facets.get("what", topic.summary), quote=False)
    rows = [
        (Button(content.messages(f"facet_button_{f}"), TopicFacet(topic.id, f).pack()),)
        for f in SUGGESTED_FACETS
    ]
    more = Button(content.messages("more_button"), TopicCard(topic.id).pack())
    return Reply(
        f"{_heading(topic)}\n{text}\n\n{content.messages('anything_specific')}",
        (*_session_row(topic, content, owned_tools), *rows, (more,)),
    )


def facet_text(topic: Topic, facet: str, content: Content) -> str:
    """Telegram HTML for one facet, from the topic's own text and the programme's numbers."""
    written = topic.facets.get(facet)
    parts = [html.escape(written, quote=False)] if written else []
    if facet == "dose":
        parts += dose_lines(topic, content)
        if steps_for(content.program, topic.id):
            parts.append(tool_line(topic, content))
    elif facet == "tool" and not written:
        parts.append(tool_line(topic, content))
    elif facet == "how" and not written:
        steps = steps_for(content.program, topic.id)
        if steps:
            step = steps[0]
            both = f"{step.position.strip()} {step.technique.strip()}"
            text = both if len(both) <= FACET_CHARS else step.technique.strip()
            parts.append(html.escape(text, quote=False))
    if not parts:
        parts.append(html.escape(topic.summary, quote=False))
    return "\n".join(parts)


def steps_for(program: Program, topic_id: str) -> list[StepTemplate]:
    """The programme steps that work on a topic, or use it as their tool."""
    kit = set(program.kit_contents.get(topic_id, ()))
    return [
        s
        for s in program.steps.values()
        if s.target == topic_id or s.tool == topic_id or s.tool in kit
    ]


def _weeks(content: Content, phase: Phase) -> str:
    msg = content.messages
    if phase.last_week is None:
        return msg("dose_weeks_from", first=phase.first_week)
    return msg("dose_weeks", first=phase.first_week, last=phase.last_week)


def dose_lines(topic: Topic, content: Content) -> list[str]:
    """How long and how often, rendered from the programme: never a second copy of its numbers."""
    program, msg = content.program, content.messages
    steps = steps_for(program, topic.id)
    if not steps and "dose" not in topic.facets:
        for related in topic.related:
            steps += [s for s in steps_for(program, related) if s not in steps][:1]
            if len(steps) >= BORROWED_DOSES:
                break
    lines = []
    for step in steps[: BORROWED_DOSES + 1]:
        times = _step_times(step, content)
        if step.sides == "left-right":
            lines.append(msg("dose_step_sides", step=step.title, times=times))
        else:
            lines.append(msg("dose_step", step=step.title, times=times))
    if steps or "dose" not in topic.facets:
        weekly = [
            msg(
                "dose_phase_sessions",
                phase=phase.title,
                weeks=_weeks(content, phase),
                sessions=phase.sessions_per_week,
            )
            for phase in program.phases
        ]
        lines.append(msg("dose_sessions", phases="; ".join(weekly)))
    return [" ".join(line.split()) for line in lines]


def _step_times(step: StepTemplate, content: Content) -> str:
    """ "45 s in Release, then 60 s": a step's seconds through the phases, each change once."""
    msg, phases = content.messages, content.program.phases
    groups: list[tuple[Phase, int]] = []
    for phase in phases:
        if step.id in phase.steps:
            seconds = scaled_seconds(step, phase, 1.0)
            if not groups or groups[-1][1] != seconds:
                groups.append((phase, seconds))
    if len(groups) == 1:
        phase, seconds = groups[0]
        if phase is phases[0]:
            return msg("dose_seconds", seconds=seconds)
        return msg("dose_from_phase_seconds", seconds=seconds, phase=phase.title)
    first, *rest = groups
    times = [msg("dose_phase_seconds", seconds=first[1], phase=first[0].title)]
    times += [msg("dose_then_seconds", seconds=seconds) for _, seconds in rest]
    return ", ".join(times)


def tool_line(topic: Topic, content: Content) -> str:
    """Which tools reach this topic: its programme steps' tools, else the topic's own list."""
    program, msg = content.program, content.messages
    names: list[str] = []
    for step in steps_for(program, topic.id):
        names.append(program.tool_names.get(step.tool, step.tool))
        if step.alternative:
            names.append(program.tool_names.get(step.alternative, step.alternative))
    names += [
        program.tool_names.get(t, content.topics[t].title)
        for t in topic.tools
        if t in content.topics
    ]
    unique = list(dict.fromkeys(names))
    if not unique:
        return msg("tool_none")
    return msg("tool_list", tools=", ".join(unique))


def red_flag_follow_up_reply(level: str, content: Content) -> Reply:
    """After red-flag advice, "is it serious?" gets the same advice again, kindly and plainly."""
    msg = content.messages
    key = "red_flag_follow_up_crisis" if level == CRISIS else f"red_flag_follow_up_{level}"
    return Reply(msg(key))
