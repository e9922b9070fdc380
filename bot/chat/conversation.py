"""The conversation engine: one input in, replies (plain data) out. No transport here."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from backchain.bot.chat import answers, callbacks, onboarding, replying
from backchain.bot.chat import health as health_flow
from backchain.bot.chat import outcomes as outcomes_flow
from backchain.bot.chat import reminders as reminder_flow
from backchain.bot.chat import session as session_flow
from backchain.bot.chat.callbacks import (
    ForgetNo,
    ForgetYes,
    Press,
    ShowGroup,
    ShowTopic,
    TopicCard,
    TopicFacet,
)
from backchain.bot.chat.incoming import Incoming, Kind
from backchain.bot.chat.replies import Button, Outcome, Reply
from backchain.bot.chat.services import Services
from backchain.bot.routine.plan import SessionPlan
from backchain.bot.understanding.textnorm import MAX_INPUT_CHARS
from backchain.bot.understanding.understand import Context, Meaning, Understanding
from backchain.storage.context import StoredContext
from backchain.storage.sessions import StoredSession
from backchain.storage.users import User

# Telegram's own limit on an incoming message; longer console lines are cut to the same size.

# A "Yes, delete everything" button older than this has expired.
FORGET_CONFIRM_MINUTES = 5

# Command name -> the description shown in Telegram's menu comes from messages "cmd_<name>".
COMMANDS = (
    "start",
    "help",
    "topics",
    "session",
    "progress",
    "remind",
    "timezone",
    "reminders",
    "profile",
    "health",
    "export",
    "privacy",
    "forget",
)


class Conversation:
    """Turns one user input into an Outcome, reading and writing that user's stored state only."""

    def __init__(self, services: Services):
        self.services = services
        self.content = services.content
        self.msg = services.content.messages

    def handle_turn(self, incoming: Incoming) -> Outcome:
        """`handle` as one transaction, its write lock taken before anything else: raises
        StorageBusy, having changed and said nothing, while another process holds the database."""
        with self.services.storage.turn():
            return self.handle(incoming)

    def handle(self, incoming: Incoming) -> Outcome:
        user = self.services.users.ensure(incoming.user_id, self.services.clock())
        if incoming.kind is Kind.COMMAND:
            return self._command(user, incoming)
        if incoming.kind is Kind.PRESS:
            return self._press(user, incoming)
        if incoming.kind is Kind.TEXT:
            return self._text(user, incoming)
        return Outcome().say(Reply(self.msg("text_only")))

    # --- commands -------------------------------------------------------------------------

    def _command(self, user: User, incoming: Incoming) -> Outcome:
        handlers: dict[str, Callable[[User, Incoming], Outcome]] = {
            "start": lambda u, i: onboarding.start_onboarding(self.services, u, welcome=True),
            "profile": lambda u, i: onboarding.start_onboarding(self.services, u, welcome=False),
            "health": lambda u, i: health_flow.show(self.services, u),
            "help": lambda u, i: Outcome().say(Reply(self.msg("help"))),
            "privacy": lambda u, i: Outcome().say(Reply(self.msg("privacy"))),
            "topics": lambda u, i: Outcome().say(answers.groups_reply(self.content)),
            "forget": lambda u, i: Outcome().say(self._forget_question()),
            "session": lambda u, i: session_flow.begin(self.services, u, incoming.chat_id),
            "progress": self._progress,
            "export": self._export,
            "remind": self._remind,
            "timezone": self._timezone,
            "reminders": lambda u, i: reminder_flow.show(self.services, u),
        }
        handler = handlers.get(incoming.text)
        if handler is None:
            return Outcome().say(Reply(self.msg("unknown_command")))
        return handler(user, incoming)

    # The progress and export flows (charts, files) are imported on first use: a question, the
    # most common input and all that `backchain ask` sends, never needs them.
    def _progress(self, user: User, incoming: Incoming) -> Outcome:
        from backchain.bot.chat import progress as progress_flow

        return progress_flow.progress(self.services, user)

    def _export(self, user: User, incoming: Incoming) -> Outcome:
        from backchain.bot.chat import export as export_flow

        return export_flow.export(self.services, user)

    def _remind(self, user: User, incoming: Incoming) -> Outcome:
        if incoming.args:
            return reminder_flow.remind_with_argument(
                self.services, user, incoming.chat_id, incoming.args
            )
        return reminder_flow.ask_time(self.services, user)

    def _timezone(self, user: User, incoming: Incoming) -> Outcome:
        if incoming.args:
            return reminder_flow.timezone_with_argument(self.services, user, incoming.args)
        return reminder_flow.ask_timezone(self.services, user)

    def _forget_question(self) -> Reply:
        rows = (
            (Button(self.msg("forget_yes_button"), ForgetYes(self._minute()).pack()),),
            (Button(self.msg("forget_no_button"), ForgetNo().pack()),),
        )
        return Reply(self.msg("forget_confirm"), rows)

    # --- free text --------------------------------------------------------------------------

    def _text(self, user: User, incoming: Incoming) -> Outcome:
        text = incoming.text[:MAX_INPUT_CHARS]
        now = self.services.clock()
        if not text.strip():
            return Outcome().say(Reply(self.msg("empty_text")))
        session = self._session_in_hand(user)
        context = self._context(user, session)
        understanding = self.services.understander.understand(text, context)
        flag = understanding.flag
        if flag is not None:
            self.services.questions.record(user.id, text, None, 0.0, flag.level, now)
            self.services.questions.record_red_flag(user.id, flag.level, flag.rule, now)
            self._remember(user, understanding.next_context(context))
            return Outcome().say(answers.red_flag_reply(flag, self.content))
        awaited = reminder_flow.handle_awaited_text(self.services, user, incoming.chat_id, text)
        if awaited is None:
            awaited = session_flow.handle_typed_pain(self.services, user, text)
        if awaited is None:
            awaited = outcomes_flow.handle_awaited_text(self.services, user, text)
        if awaited is not None:
            return awaited
        outcome = self._answer(user, text, understanding)
        self._remember(user, understanding.next_context(context))
        if session is not None and understanding.meaning is not Meaning.SMALL_TALK:
            # A question mid-session gets its answer, then the step in hand with its buttons.
            outcome.say(session_flow.current_reply(self.services, user, session))
        # A condition named in passing ("I'm on warfarin") is offered, never stored silently.
        offer = health_flow.offer_for(self.services, user, text)
        return outcome.say(offer) if offer is not None else outcome

    def answer_in_public(self, text: str) -> Outcome:
        """A question asked where no one's thread is kept (a group): nothing read or stored."""
        return replying.public_answer(self.content, self.services.understander, text)

    def _answer(self, user: User, text: str, understanding: Understanding) -> Outcome:
        if understanding.meaning not in (Meaning.SMALL_TALK, Meaning.RED_FLAG_FOLLOW_UP):
            result = understanding.match
            self.services.questions.record(
                user.id,
                text,
                understanding.topic,
                100.0 if understanding.follow_up else result.score if result else 0.0,
                None,
                self.services.clock(),
            )
        return Outcome().say(replying.reply_for(understanding, self.content, user.owned_tools))

    # --- the thread ------------------------------------------------------------------------

    def _memory(self) -> timedelta:
        return timedelta(minutes=self.services.understander.rules.remember_minutes)

    def _session_in_hand(self, user: User) -> StoredSession | None:
        session = self.services.sessions.unfinished(user.id)
        if session is None or session.status not in ("pain-check", "active", "post-check"):
            return None
        return session

    def _context(self, user: User, session: StoredSession | None) -> Context:
        stored = self.services.contexts.get(user.id, self.services.clock(), self._memory())
        step_topic = None
        if session is not None and session.status == "active":
            steps = SessionPlan.from_json(session.plan).steps
            if 0 <= session.current_step < len(steps):
                step_topic = steps[session.current_step].target
        return Context(
            topic=stored.topic,
            facet=stored.facet,
            step_topic=step_topic,
            red_flag_level=stored.red_flag_level,
            red_flag_rule=stored.red_flag_rule,
        )

    def _remember(self, user: User, context: Context) -> None:
        stored = StoredContext(
            context.topic,
            context.facet,
            context.step_topic,
            context.red_flag_level,
            context.red_flag_rule,
        )
        self.services.contexts.save(user.id, stored, self.services.clock())

    # --- buttons ----------------------------------------------------------------------------

    def _press(self, user: User, incoming: Incoming) -> Outcome:
        press = callbacks.parse(incoming.data)
        outcome = self._dispatch_press(user, incoming, press) if press else None
        return outcome if outcome is not None else Outcome().say(Reply(self.msg("button_expired")))

    def _dispatch_press(self, user: User, incoming: Incoming, press: Press) -> Outcome | None:
        if isinstance(press, (ShowTopic, TopicCard, TopicFacet)):
            return self._topic_press(user, press)
        if isinstance(press, ShowGroup):
            reply = answers.group_reply(press.group, self.content)
            return Outcome().say(reply) if reply else None
        if press.namespace == "ob":
            return onboarding.handle_onboarding_press(self.services, user, press)
        if press.namespace == "fg":
            return self._forget(user, press)
        if press.namespace == "hs":
            return health_flow.handle_press(
                self.services, user, press, lambda: onboarding.focus_question(self.content)
            )
        if press.namespace in ("s", "tm"):
            return session_flow.handle_press(
                self.services, user, incoming.chat_id, press, replayed=incoming.replayed
            )
        if press.namespace == "oc":
            return outcomes_flow.handle_press(self.services, user, press)
        if press.namespace == "r":
            return reminder_flow.handle_press(self.services, user, incoming.chat_id, press)
        return None

    def _topic_press(
        self, user: User, press: ShowTopic | TopicCard | TopicFacet
    ) -> Outcome | None:
        """A topic button: its short answer, its whole card, or one of its parts."""
        topic = self.content.topics.get(press.topic)
        if topic is None:
            return None
        facet: str | None = None
        if isinstance(press, TopicCard):
            reply = answers.topic_reply(topic, self.content, user.owned_tools)
        elif isinstance(press, TopicFacet):
            facet = press.facet
            if facet not in answers.SUGGESTED_FACETS:
                return None
            reply = answers.facet_reply(topic, facet, self.content, user.owned_tools)
        else:
            understanding = Understanding(Meaning.TOPIC, topic=topic.id, facet="what")
            reply = answers.answer(understanding, self.content, user.owned_tools)
            facet = "what"
        self._remember(user, Context(topic=topic.id, facet=facet))
        return Outcome().say(reply)

    def _minute(self) -> int:
        return int(self.services.clock().timestamp() // 60)

    def _forget(self, user: User, press: Press) -> Outcome:
        if isinstance(press, ForgetYes) and self._minute() - press.minute > FORGET_CONFIRM_MINUTES:
            return Outcome().say(Reply(self.msg("forget_expired")))
        if isinstance(press, ForgetYes):
            from backchain.bot.chat import export as export_flow

            self.services.users.delete_everything(user.id)
            export_flow.remove_user_files(self.services, user.id)
            return Outcome(cancel_timers=[f"user:{user.id}:"]).say(Reply(self.msg("forgotten")))
        return Outcome().say(Reply(self.msg("forget_cancelled")))
