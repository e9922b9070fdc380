"""The console chat: the same conversation as in Telegram, in a terminal.

Buttons are shown as numbered choices; the person picks one by number or by typing its label.
"""

from __future__ import annotations

import asyncio
import re
import sys
import threading
from pathlib import Path
from typing import TextIO

from backchain.bot.adapters import collector
from backchain.bot.adapters.config import Settings
from backchain.bot.adapters.plain import plain_text, render_reply
from backchain.bot.chat.conversation import Conversation
from backchain.bot.chat.incoming import Incoming
from backchain.bot.chat.reminder_ticker import SendStatus, TickReport, tick
from backchain.bot.chat.reminders import quiet_today, reminder_replies
from backchain.bot.chat.replies import Button, Outcome, Reply, Timer
from backchain.bot.chat.services import Services, build_services
from backchain.storage.errors import StorageBusy
from backchain.storage.reminders import Reminder

from backchain.text import fold

LOCAL_USER = 0  # the console's one user; Telegram ids are positive
_DECORATION = re.compile(r"[^\w\s&'/-]")


def label_key(text: str) -> str:
    """A label as a person would type it: no emoji or marks, any case, single spaces."""
    return " ".join(_DECORATION.sub(" ", fold(plain_text(text))).split())


class ConsoleChat:
    """Reads lines, maps them to inputs, prints replies; timers fire from a background thread."""

    def __init__(self, services: Services, out: TextIO = sys.stdout, user_id: int = LOCAL_USER):
        self.conversation = Conversation(services)
        self.out = out
        self.user_id = user_id
        self.choices: list[Button] = []
        self.lock = threading.Lock()
        self.timers: dict[str, threading.Timer] = {}
        self.stopping = threading.Event()

    def incoming_for(self, line: str) -> Incoming:
        """A button's label (emoji aside) or its number picks it; anything else is typed text.

        Labels win over numbers so that typing "5" on the pain scale means pain 5.
        """
        key = label_key(line)
        for button in self.choices:
            if key and key == label_key(button.label):
                return Incoming.press(self.user_id, self.user_id, button.data)
        text = line.strip()
        if text.isdigit() and 1 <= int(text) <= len(self.choices):
            return Incoming.press(self.user_id, self.user_id, self.choices[int(text) - 1].data)
        return Incoming.text_message(self.user_id, self.user_id, line)

    def feed(self, incoming: Incoming) -> None:
        with self.lock:
            try:
                # One transaction for the whole input, as in Telegram; a lock held by another
                # program is waited for (up to the database's busy timeout) before this says so.
                outcome = self.conversation.handle_turn(incoming)
            except StorageBusy:
                outcome = Outcome().say(Reply(self.conversation.msg("database_busy")))
            self._show(outcome)
        self._schedule(outcome)

    def _show(self, outcome: Outcome) -> None:
        buttons: list[Button] = []
        for reply in outcome.replies:
            self.out.write(render_reply(reply, numbered_from=len(buttons) + 1) + "\n")
            buttons.extend(reply.button_list())
            if reply.image is not None:
                self._note("console_chart_saved", reply.image)
            if reply.document is not None:
                self._note("console_file_saved", reply.document)
            self.out.write("\n")
        if buttons:
            self.choices = buttons
        self.out.flush()

    def _note(self, key: str, path: Path) -> None:
        self.out.write(plain_text(self.conversation.msg(key, path=path)) + "\n")

    def _schedule(self, outcome: Outcome) -> None:
        for prefix in outcome.cancel_timers:
            for name in [n for n in self.timers if n.startswith(prefix)]:
                self.timers.pop(name).cancel()
        for timer in outcome.timers:
            self._start_timer(timer)

    def _start_timer(self, timer: Timer) -> None:
        def fire() -> None:
            self.feed(Incoming.press(self.user_id, self.user_id, timer.callback_data))

        thread = threading.Timer(timer.seconds, fire)
        thread.daemon = True
        self.timers[timer.name] = thread
        thread.start()

    def start_reminders(self, interval: float) -> None:
        """Check the local user's daily reminder every `interval` seconds while the chat runs."""
        thread = threading.Thread(target=self._reminder_loop, args=(interval,), daemon=True)
        thread.start()

    def _reminder_loop(self, interval: float) -> None:
        while not self.stopping.wait(interval):
            with self.lock:
                asyncio.run(self.remind_if_due())

    async def remind_if_due(self) -> TickReport:
        """One reminder tick for the local user; the reminder is printed like any reply."""
        services = self.conversation.services

        async def show(reminder: Reminder) -> SendStatus:
            user = services.users.get(reminder.user_id)
            self._show(Outcome(replies=reminder_replies(services, user)))
            return SendStatus.SENT

        return await tick(
            services.reminders,
            services.clock(),
            show,
            quiet_today(services),
            only_user=self.user_id,
        )

    def close(self) -> None:
        self.stopping.set()
        for thread in self.timers.values():
            thread.cancel()


def run_console(settings: Settings, stdin: TextIO = sys.stdin, out: TextIO = sys.stdout) -> int:
    """Chat until end of input or "quit"."""
    services = build_services(settings.db_path, settings.content_dir, files_dir=settings.files_dir)
    collector.started()
    chat = ConsoleChat(services, out)
    chat.start_reminders(settings.reminder_tick_seconds)
    interactive = stdin.isatty()
    out.write(plain_text(services.content.messages("console_intro")) + "\n\n")
    try:
        if _is_new(services):
            chat.feed(Incoming.text_message(LOCAL_USER, LOCAL_USER, "/start"))
        while True:
            if interactive:
                out.write("> ")
                out.flush()
            line = stdin.readline()
            if not line or fold(line) in {"quit", "exit"}:
                break
            if line.strip():
                chat.feed(chat.incoming_for(line.rstrip("\n")))
    except KeyboardInterrupt:
        out.write("\n")
    finally:
        chat.close()
        services.close()
    return 0


def _is_new(services: Services) -> bool:
    return not services.users.exists(LOCAL_USER)
