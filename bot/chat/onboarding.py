"""Onboarding and /profile: which kits or tools a person owns and where it hurts."""

from __future__ import annotations

from backchain.bot.chat import health as health_flow
from backchain.bot.chat.callbacks import ChooseFocus, HealthOpen, Press, ToggleTool, ToolsDone
from backchain.bot.chat.replies import Button, Outcome, Reply
from backchain.bot.chat.services import Services
from backchain.bot.content import Content
from backchain.storage.users import User

FOCUS_AREAS = ("hip", "lower-back", "knee", "sciatica", "general")


def tool_choices(content: Content) -> list[str]:
    """Kits first, then single tools, as the content lists them."""
    kits = list(content.program.kit_contents)
    tools = [t.id for t in content.topics_in_group("kits") if t.id not in kits]
    return kits + tools


def tools_keyboard(content: Content, selected: list[str]) -> tuple[tuple[Button, ...], ...]:
    rows = []
    for tool in tool_choices(content):
        mark = "✅ " if tool in selected else "▫️ "
        rows.append((Button(mark + content.topics[tool].title, ToggleTool(tool).pack()),))
    rows.append((Button(content.messages("tools_done_button"), ToolsDone().pack()),))
    return tuple(rows)


def tools_question(content: Content, selected: list[str], edit: bool = False) -> Reply:
    return Reply(content.messages("ask_tools"), tools_keyboard(content, selected), edit=edit)


def focus_question(content: Content) -> Reply:
    rows = tuple(
        (Button(content.messages(f"focus_{area}"), ChooseFocus(area).pack()),)
        for area in FOCUS_AREAS
    )
    return Reply(content.messages("ask_focus"), rows)


def start_onboarding(services: Services, user: User, welcome: bool) -> Outcome:
    """Welcome (on /start) and the first onboarding question; remembers the tools chosen so far."""
    content = services.content
    services.users.set_state(user.id, {"tools": list(user.owned_tools)}, services.clock())
    outcome = Outcome()
    if welcome:
        outcome.say(Reply(content.messages("welcome")))
    return outcome.say(tools_question(content, user.owned_tools))


def handle_onboarding_press(services: Services, user: User, press: Press) -> Outcome | None:
    """Toggle a tool, finish the tools question, or pick a focus. None if the press is stale."""
    content = services.content
    state = services.users.state(user.id)
    now = services.clock()
    if isinstance(press, ToggleTool):
        tool = press.tool
        if "tools" not in state or tool not in tool_choices(content):
            return None
        selected = [t for t in state["tools"] if t in content.topics]
        selected = [t for t in selected if t != tool] if tool in selected else [*selected, tool]
        services.users.set_state(user.id, {**state, "tools": selected}, now)
        return Outcome().say(tools_question(content, selected, edit=True))
    if isinstance(press, ToolsDone):
        if "tools" not in state:
            return None
        user.owned_tools = [t for t in state["tools"] if t in content.topics]
        services.users.save_profile(user)
        return health_flow.start_screen(services, user, then="focus")
    if isinstance(press, ChooseFocus):
        area = press.area
        if area not in FOCUS_AREAS or not state.get("focus"):
            return None
        user.focus = area
        user.onboarded = True
        services.users.save_profile(user)
        services.users.set_state(user.id, {}, now)
        outcome = Outcome().say(profile_saved(content, user))
        if not services.outcomes.activities(user.id):
            from backchain.bot.chat.outcomes import ask_activity

            outcome.say(ask_activity(services, user, first=True))
        return outcome
    return None


def profile_saved(content: Content, user: User) -> Reply:
    tools = ", ".join(content.topics[t].title for t in user.owned_tools if t in content.topics)
    rows = ((Button(content.messages("health_open_button"), HealthOpen().pack()),),)
    return Reply(
        content.messages(
            "profile_saved",
            tools=tools or content.messages("no_tools"),
            focus=content.messages(f"focus_{user.focus or 'general'}"),
        ),
        rows,
    )
