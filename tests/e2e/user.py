"""A simulated Telegram user: sends messages and presses buttons, reads the bot's replies."""

from __future__ import annotations

import asyncio

from .fake_bot_api import BotReply, ChatMessage, FakeBotApi, InlineButton, JSONDict


class SimulatedUser:
    """One person in a private chat with the bot, driven through a FakeBotApi.

    Replies are read like an inbox: every send, edit or deletion the bot makes in this chat is
    returned once, in order, by `next_reply` or `replies_until_idle`.
    """

    def __init__(
        self,
        server: FakeBotApi,
        user_id: int,
        first_name: str = "Alex",
        *,
        username: str | None = None,
        language_code: str = "en",
    ) -> None:
        self.server = server
        self.user_id = user_id
        self.first_name = first_name
        server.register_user(user_id, first_name, username=username, language_code=language_code)
        self._read = len(server.replies(user_id))

    @property
    def chat_id(self) -> int:
        return self.user_id

    # acting

    async def send(self, text: str) -> int:
        """Send a text message (a command when it starts with "/"); returns its message_id."""
        return await self._pushed(self.server.push_message(self.user_id, text))

    async def send_sticker(self) -> int:
        return await self._pushed(self.server.push_sticker(self.user_id))

    async def send_photo(self, caption: str | None = None) -> int:
        return await self._pushed(self.server.push_photo(self.user_id, caption=caption))

    async def send_voice(self) -> int:
        return await self._pushed(self.server.push_voice(self.user_id))

    async def send_location(self, latitude: float = 52.3676, longitude: float = 4.9041) -> int:
        update = self.server.push_location(self.user_id, latitude=latitude, longitude=longitude)
        return await self._pushed(update)

    async def send_document(
        self, file_name: str = "notes.pdf", data: bytes = b"%PDF-1.4 fake"
    ) -> int:
        update = self.server.push_document(self.user_id, file_name=file_name, data=data)
        return await self._pushed(update)

    async def press(self, label: str) -> str:
        """Press a button by its label, or by a unique part of it, on the newest bot message
        that shows one; returns the callback query id.

        A reply keyboard button is pressed by sending its label, as Telegram clients do; then
        the sent message's id is returned as a string.
        """
        found = self._find_button(label)
        if found is not None:
            message, button = found
            if button.callback_data is None:
                raise AssertionError(f"button {button.text!r} opens a URL, it has no callback")
            return await self.press_data(button.callback_data, message.message_id)
        keyboard_label = self._find_reply_keyboard_label(label)
        if keyboard_label is not None:
            return str(await self.send(keyboard_label))
        raise AssertionError(f"no button matching {label!r}; visible: {self.visible_labels()}")

    async def press_data(self, data: str, message_id: int | None = None) -> str:
        """Send a callback query with any data, as a modified client could; returns its id."""
        if message_id is None:
            latest = self.latest_bot_message()
            message_id = latest.message_id if latest is not None else 1
        query_id = self.server.push_callback(self.user_id, message_id, data)
        await asyncio.sleep(0)
        return query_id

    # reading

    async def next_reply(self, timeout: float = 10.0) -> BotReply:
        """The next unread send, edit or deletion the bot made in this chat."""
        replies = self.server.replies(self.user_id)
        await self.server.wait_for(
            lambda: len(replies) > self._read, timeout, what=f"a reply to user {self.user_id}"
        )
        reply = replies[self._read]
        self._read += 1
        return reply

    async def replies_until_idle(
        self, quiet: float = 0.5, timeout: float = 10.0, *, at_least: int = 0
    ) -> list[BotReply]:
        """Unread replies, collected until the bot stays quiet for `quiet` seconds.

        With `at_least`, waits (up to `timeout`) for that many before listening for quiet.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        collected: list[BotReply] = []
        while loop.time() < deadline:
            needed = len(collected) < at_least
            wait = deadline - loop.time() if needed else min(quiet, deadline - loop.time())
            try:
                collected.append(await self.next_reply(timeout=max(wait, 0.0)))
            except TimeoutError:
                if needed:
                    raise
                return collected
        return collected

    def unread(self) -> list[BotReply]:
        """Replies not read yet, marking them read, without waiting."""
        replies = self.server.replies(self.user_id)[self._read :]
        self._read += len(replies)
        return replies

    def skip_unread(self) -> None:
        self._read = len(self.server.replies(self.user_id))

    # the chat as it stands

    def bot_messages(self) -> list[ChatMessage]:
        return self.server.bot_messages(self.user_id)

    def latest_bot_message(self) -> ChatMessage | None:
        messages = self.bot_messages()
        return messages[-1] if messages else None

    def last_buttons(self) -> list[InlineButton]:
        """Buttons of the newest bot message that has any."""
        for message in reversed(self.bot_messages()):
            if message.buttons:
                return [button for row in message.buttons for button in row]
        return []

    def visible_labels(self) -> list[str]:
        """Every inline and reply keyboard label on screen, newest message first."""
        labels = [
            label for message in reversed(self.bot_messages()) for label in message.button_labels
        ]
        keyboard = self.server.chat(self.user_id).reply_keyboard or []
        return labels + [label for row in keyboard for label in row]

    def _find_button(self, label: str) -> tuple[ChatMessage, InlineButton] | None:
        wanted = label.casefold()
        for message in reversed(self.bot_messages()):
            buttons = [button for row in message.buttons for button in row]
            exact = [button for button in buttons if button.text == label]
            partial = [button for button in buttons if wanted in button.text.casefold()]
            matches = exact or partial
            if len(matches) > 1:
                names = [button.text for button in matches]
                raise AssertionError(f"{label!r} matches several buttons: {names}")
            if matches:
                return message, matches[0]
        return None

    def _find_reply_keyboard_label(self, label: str) -> str | None:
        keyboard = self.server.chat(self.user_id).reply_keyboard or []
        labels = [text for row in keyboard for text in row]
        if label in labels:
            return label
        partial = [text for text in labels if label.casefold() in text.casefold()]
        return partial[0] if len(partial) == 1 else None

    async def _pushed(self, update: JSONDict) -> int:
        # Let the server hand the update to a poll that is already waiting.
        await asyncio.sleep(0)
        return int(update["message"]["message_id"])
