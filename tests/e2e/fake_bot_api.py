"""A fake Telegram Bot API server for end-to-end tests, speaking real HTTP on 127.0.0.1.

It answers the methods a polling bot uses with objects shaped like Telegram's, enforces the
limits that catch real bugs (HTML that Telegram would reject, 64-byte callback data, edits that
change nothing), keeps every chat as the user would see it with edits applied, and records every
call in order. Tests push updates with `push_*` and read what the bot did from `calls`, the chat
store and `answered_callbacks`.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import html
import itertools
import json
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from aiohttp import web

JSONDict = dict[str, Any]
T = TypeVar("T")

DEFAULT_TOKEN = "123456:TEST-TOKEN"
BOT_FIRST_NAME = "Backchain"
BOT_USERNAME = "backchain_test_bot"

MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
MAX_CALLBACK_DATA_BYTES = 64
MAX_UPLOAD_BYTES = 50 * 1024 * 1024

UNAUTHORIZED = "Unauthorized"
BLOCKED_BY_USER = "Forbidden: bot was blocked by the user"
POLL_CONFLICT = (
    "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running"
)
NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)
QUERY_TOO_OLD = "Bad Request: query is too old and response timeout expired or query ID is invalid"

# Telegram leaves these out unless a bot asks for them in allowed_updates.
_OPT_IN_UPDATE_TYPES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})

# Form posts carry every value as a string and PTB JSON-encodes only non-strings; these fields
# are always plain strings, so a text of "42" or "true" must not be decoded into a number.
_STRING_FIELDS = frozenset(
    {
        "text",
        "caption",
        "parse_mode",
        "callback_query_id",
        "inline_message_id",
        "url",
        "action",
        "emoji",
        "description",
        "short_description",
        "name",
        "language_code",
        "business_connection_id",
        "message_effect_id",
        "file_id",
        "photo",
        "document",
        "audio",
        "video",
        "voice",
        "sticker",
        "animation",
        "thumbnail",
    }
)

_INLINE_BUTTON_ACTIONS = frozenset(
    {
        "callback_data",
        "url",
        "login_url",
        "switch_inline_query",
        "switch_inline_query_current_chat",
        "switch_inline_query_chosen_chat",
        "callback_game",
        "pay",
        "web_app",
        "copy_text",
    }
)

_ALLOWED_HTML_TAGS = frozenset(
    {
        "b",
        "strong",
        "i",
        "em",
        "u",
        "ins",
        "s",
        "strike",
        "del",
        "span",
        "tg-spoiler",
        "a",
        "code",
        "pre",
        "blockquote",
        "tg-emoji",
    }
)
_HTML_TAG_OR_STRAY_BRACKET = re.compile(r"<[^<>]*>|<")
_HTML_TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9-]*)(\s[^<>]*)?>")

# A 1x1 transparent PNG: the bytes a pushed photo downloads as.
TINY_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d49444154789c63000100000500010d0a2db40000000049454e44ae426082"
)

_WAKE_INTERVAL = 0.05


class ApiError(Exception):
    """A Bot API error response: HTTP status plus Telegram's description."""

    def __init__(self, status: int, description: str, parameters: JSONDict | None = None):
        super().__init__(f"{status} {description}")
        self.status = status
        self.description = description
        self.parameters = parameters

    def body(self) -> JSONDict:
        """The JSON body Telegram sends with this error."""
        body: JSONDict = {"ok": False, "error_code": self.status, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def bad_request(detail: str) -> ApiError:
    """A 400 error with Telegram's "Bad Request: " prefix."""
    return ApiError(400, f"Bad Request: {detail}")


@dataclass(frozen=True)
class UploadedFile:
    """A file part of a multipart request."""

    field: str
    filename: str | None
    content_type: str
    data: bytes


@dataclass
class RecordedCall:
    """One HTTP call to a Bot API method; status stays None while a long poll is held."""

    method: str
    params: JSONDict
    files: dict[str, UploadedFile]
    token_ok: bool
    status: int | None = None
    result: Any = None
    description: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == 200


@dataclass(frozen=True)
class InlineButton:
    """One inline keyboard button as the user sees it."""

    text: str
    callback_data: str | None = None
    url: str | None = None


def inline_buttons(markup: JSONDict | None) -> list[list[InlineButton]]:
    """The rows of an inline keyboard markup; empty for no markup or a reply keyboard."""
    if not markup:
        return []
    return [
        [
            InlineButton(
                text=button.get("text", ""),
                callback_data=button.get("callback_data"),
                url=button.get("url"),
            )
            for button in row
        ]
        for row in markup.get("inline_keyboard", [])
    ]


class _HasKeyboard:
    """Button accessors shared by stored messages and reply snapshots."""

    reply_markup: JSONDict | None

    @property
    def buttons(self) -> list[list[InlineButton]]:
        return inline_buttons(self.reply_markup)

    @property
    def button_labels(self) -> list[str]:
        return [button.text for row in self.buttons for button in row]

    def button(self, label: str) -> InlineButton:
        """The button with exactly this label."""
        for row in self.buttons:
            for button in row:
                if button.text == label:
                    return button
        raise KeyError(f"no button {label!r} among {self.button_labels}")


@dataclass
class ChatMessage(_HasKeyboard):
    """A message in a chat as it currently stands, edits applied.

    `text` is what the user reads (HTML tags removed, entities decoded; the caption for media),
    `sent_text` what the bot sent. `reply_markup` is the inline keyboard under the message.
    """

    chat_id: int
    message_id: int
    from_bot: bool
    kind: str
    text: str | None
    sent_text: str | None
    parse_mode: str | None
    reply_markup: JSONDict | None
    payload: JSONDict
    file: UploadedFile | None = None
    edit_count: int = 0
    deleted: bool = False


@dataclass(frozen=True)
class BotReply(_HasKeyboard):
    """A snapshot of one thing the bot did in a chat: sent, edited or deleted a message.

    `reply_markup` is the markup as the bot passed it (inline keyboard, reply keyboard or a
    removal); None on an edit means the inline keyboard was removed.
    """

    action: str
    method: str
    chat_id: int
    message_id: int
    kind: str
    text: str | None
    sent_text: str | None
    parse_mode: str | None
    reply_markup: JSONDict | None
    file: UploadedFile | None

    @property
    def is_edit(self) -> bool:
        return self.action == "edited"

    @classmethod
    def of(
        cls, action: str, method: str, message: ChatMessage, markup: JSONDict | None
    ) -> BotReply:
        return cls(
            action=action,
            method=method,
            chat_id=message.chat_id,
            message_id=message.message_id,
            kind=message.kind,
            text=message.text,
            sent_text=message.sent_text,
            parse_mode=message.parse_mode,
            reply_markup=markup,
            file=message.file,
        )


@dataclass(frozen=True)
class AnsweredCallback:
    """The bot's answerCallbackQuery for one pressed button."""

    callback_query_id: str
    text: str | None
    show_alert: bool
    url: str | None


@dataclass
class Chat:
    """A private chat with one user: its messages and everything the bot did in it."""

    chat_id: int
    first_name: str
    username: str | None = None
    language_code: str = "en"
    messages: dict[int, ChatMessage] = field(default_factory=dict)
    replies: list[BotReply] = field(default_factory=list)
    reply_keyboard: list[list[str]] | None = None
    blocked: bool = False
    last_message_id: int = 0
    kind: str = "private"  # private | group | supergroup

    def payload(self) -> JSONDict:
        if self.kind != "private":
            return {"id": self.chat_id, "type": self.kind, "title": self.first_name}
        chat: JSONDict = {"id": self.chat_id, "type": "private", "first_name": self.first_name}
        if self.username:
            chat["username"] = self.username
        return chat

    def user_payload(self) -> JSONDict:
        user: JSONDict = {
            "id": self.chat_id,
            "is_bot": False,
            "first_name": self.first_name,
            "language_code": self.language_code,
        }
        if self.username:
            user["username"] = self.username
        return user

    def next_message_id(self) -> int:
        self.last_message_id += 1
        return self.last_message_id


@dataclass
class Fault:
    """One injected fault: which calls it hits and what it does to them.

    `delay` seconds pass before the call is handled (and then handled normally, unless an error
    or a drop is also set); `error` answers with that status; `drop` closes the connection
    without an answer after the call took effect, as a lost response would.
    """

    method: str
    times: int = 1
    chat_id: int | None = None
    error: ApiError | None = None
    delay: float = 0.0
    drop: bool = False
    hits: int = 0

    def matches(self, name: str, params: JSONDict) -> bool:
        if self.times <= 0 or self.method not in (name, "*"):
            return False
        if self.chat_id is None:
            return True
        try:
            return int(params.get("chat_id", 0)) == self.chat_id
        except (TypeError, ValueError):
            return False


class DroppedConnection(Exception):
    """Raised inside the server to close a connection without answering."""


@dataclass
class _StoredFile:
    file_id: str
    file_unique_id: str
    file_path: str
    data: bytes


Handler = Callable[[JSONDict, dict[str, UploadedFile]], Awaitable[Any]]


# --- request decoding -------------------------------------------------------------------------


async def read_request(request: web.Request) -> tuple[JSONDict, dict[str, UploadedFile]]:
    """Parameters and uploaded files of a Bot API request: query, JSON, urlencoded or multipart."""
    params: JSONDict = {key: decode_field(key, value) for key, value in request.query.items()}
    files: dict[str, UploadedFile] = {}
    if request.content_type == "application/json":
        raw = await request.read()
        body = json.loads(raw) if raw.strip() else {}
        if not isinstance(body, dict):
            raise bad_request("request body must be a JSON object")
        params.update({key: _decode_nested(key, value) for key, value in body.items()})
    elif request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        form = await request.post()
        for key, value in form.items():
            if isinstance(value, web.FileField):
                files[key] = UploadedFile(
                    key, value.filename, value.content_type, value.file.read()
                )
            else:
                params[key] = decode_field(key, str(value))
    return params, files


def decode_field(key: str, value: str) -> Any:
    """A form value as the JSON it encodes, except for fields that are always strings."""
    if key in _STRING_FIELDS:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


def _decode_nested(key: str, value: Any) -> Any:
    """Some clients put JSON strings (reply_markup) inside a JSON body."""
    if isinstance(value, str) and key not in _STRING_FIELDS and value[:1] in ("{", "["):
        return decode_field(key, value)
    return value


# --- formatting rules -------------------------------------------------------------------------


def visible_text(text: str, parse_mode: str | None) -> str:
    """The text a user reads, or an ApiError where Telegram would refuse the formatting."""
    if parse_mode is None or parse_mode.lower() != "html":
        return text
    return _render_html(text)


def _render_html(text: str) -> str:
    open_tags: list[str] = []
    pieces: list[str] = []
    position = 0
    for match in _HTML_TAG_OR_STRAY_BRACKET.finditer(text):
        pieces.append(text[position : match.start()])
        position = match.end()
        offset = len(text[: match.start()].encode())
        tag = _HTML_TAG.fullmatch(match.group(0))
        if tag is None:
            raise _entities_error(
                f'Unsupported start tag "{match.group(0)}" at byte offset {offset}'
            )
        closing, name = tag.group(1) == "/", tag.group(2).lower()
        if not closing:
            if name not in _ALLOWED_HTML_TAGS:
                raise _entities_error(f'Unsupported start tag "{name}" at byte offset {offset}')
            open_tags.append(name)
        elif not open_tags or open_tags[-1] != name:
            expected = f'"</{open_tags[-1]}>"' if open_tags else "no end tag"
            raise _entities_error(
                f'Unmatched end tag at byte offset {offset}, expected {expected}, found "</{name}>"'
            )
        else:
            open_tags.pop()
    if open_tags:
        raise _entities_error(f'Can\'t find end tag corresponding to start tag "{open_tags[-1]}"')
    pieces.append(text[position:])
    return html.unescape("".join(pieces))


def _entities_error(detail: str) -> ApiError:
    return bad_request(f"can't parse entities: {detail}")


def utf16_length(text: str) -> int:
    """Length as Telegram counts it, in UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def validated_markup(markup: Any) -> JSONDict | None:
    """The reply_markup parameter, checked the way Telegram checks inline keyboards."""
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    for row in markup.get("inline_keyboard", []):
        for button in row:
            _check_inline_button(button)
    return markup


def _check_inline_button(button: JSONDict) -> None:
    if not button.get("text"):
        raise bad_request("text buttons are unallowed in the inline keyboard")
    if not _INLINE_BUTTON_ACTIONS & button.keys():
        raise bad_request("text buttons are unallowed in the inline keyboard")
    data = button.get("callback_data")
    if data is not None and not 1 <= len(str(data).encode()) <= MAX_CALLBACK_DATA_BYTES:
        raise bad_request("BUTTON_DATA_INVALID")


def _inline_only(markup: JSONDict | None) -> JSONDict | None:
    """Telegram echoes and keeps only inline keyboards on a message."""
    if markup and "inline_keyboard" in markup:
        return markup
    return None


# --- parameter access -------------------------------------------------------------------------


def _int_param(params: JSONDict, name: str) -> int:
    value = params.get(name)
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise bad_request(f"{name} is required")
    try:
        return int(value)
    except ValueError:
        raise bad_request(f"invalid {name}") from None


def _optional_int(params: JSONDict, name: str) -> int | None:
    return None if params.get(name) is None else _int_param(params, name)


def _str_param(params: JSONDict, name: str, *, missing: str) -> str:
    value = params.get(name)
    if value is None or value == "":
        raise bad_request(missing)
    return str(value)


def _now() -> int:
    return int(time.time())


# --- the server -------------------------------------------------------------------------------


class FakeBotApi:
    """An in-process fake of api.telegram.org for one bot token, on a free 127.0.0.1 port."""

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        *,
        bot_first_name: str = BOT_FIRST_NAME,
        bot_username: str = BOT_USERNAME,
    ) -> None:
        self.token = token
        self.bot_user: JSONDict = {
            "id": int(token.split(":", 1)[0]),
            "is_bot": True,
            "first_name": bot_first_name,
            "username": bot_username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }
        self.calls: list[RecordedCall] = []
        self.unknown_methods: list[str] = []
        self.answered_callbacks: list[AnsweredCallback] = []
        self.commands: list[JSONDict] = []
        self.chats: dict[int, Chat] = {}
        self.highest_confirmed_update_id = 0
        self._pending_updates: list[JSONDict] = []
        self._update_ids = itertools.count(700_000_001)
        self._callback_ids = itertools.count(1)
        self._open_callbacks: set[str] = set()
        self._allowed_updates: list[str] = []
        self._poll_generation = 0
        self.faults: list[Fault] = []
        self._files: dict[str, _StoredFile] = {}
        self._file_counter = itertools.count(1)
        self._changed = asyncio.Event()
        self._closing = False
        self._runner: web.AppRunner | None = None
        self.port = 0
        self._methods: dict[str, Handler] = {
            "getme": self._get_me,
            "getupdates": self._get_updates,
            "deletewebhook": self._true,
            "getwebhookinfo": self._get_webhook_info,
            "setmycommands": self._set_my_commands,
            "getmycommands": self._get_my_commands,
            "deletemycommands": self._delete_my_commands,
            "sendmessage": self._send_message,
            "sendphoto": self._send_photo,
            "senddocument": self._send_document,
            "sendchataction": self._send_chat_action,
            "editmessagetext": self._edit_message_text,
            "editmessagecaption": self._edit_message_caption,
            "editmessagereplymarkup": self._edit_message_reply_markup,
            "deletemessage": self._delete_message,
            "answercallbackquery": self._answer_callback_query,
            "getfile": self._get_file,
            "close": self._true,
            "logout": self._true,
        }

    # lifecycle

    async def start(self) -> None:
        app = web.Application(client_max_size=MAX_UPLOAD_BYTES)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_method)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        # A restarted server keeps its port, so a bot started while it was down finds it.
        self._closing = False
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()
        self.port = self._runner.addresses[0][1]

    async def stop(self) -> None:
        # Release held long polls first, or shutdown would wait for them.
        self._closing = True
        self._signal()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeBotApi:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_url(self) -> str:
        """What a bot takes as its API base URL; requests go to {api_url}{token}/{method}."""
        return f"{self.base_url}/bot"

    @property
    def file_url(self) -> str:
        """What a bot takes as its file base URL."""
        return f"{self.base_url}/file/bot"

    # test controls

    def register_user(
        self,
        user_id: int,
        first_name: str | None = None,
        *,
        username: str | None = None,
        language_code: str | None = None,
    ) -> Chat:
        """The private chat with this user, created on first use."""
        chat = self.chats.get(user_id)
        if chat is None:
            chat = self.chats[user_id] = Chat(user_id, first_name or f"User{user_id}")
        if first_name:
            chat.first_name = first_name
        if username:
            chat.username = username
        if language_code:
            chat.language_code = language_code
        return chat

    def block_chat(self, chat_id: int) -> None:
        """From now on the user has blocked the bot: sends and edits to the chat get 403."""
        self.register_user(chat_id).blocked = True

    def unblock_chat(self, chat_id: int) -> None:
        self.register_user(chat_id).blocked = False

    def inject_error(
        self,
        method: str,
        status: int,
        description: str,
        *,
        times: int = 1,
        retry_after: int | None = None,
    ) -> None:
        """Make the next `times` calls of `method` fail, e.g. a 429 flood wait or a 502."""
        self.inject_fault(
            method, status=status, description=description, times=times, retry_after=retry_after
        )

    def inject_fault(
        self,
        method: str,
        *,
        status: int | None = None,
        description: str | None = None,
        retry_after: int | None = None,
        delay: float = 0.0,
        drop: bool = False,
        chat_id: int | None = None,
        times: int = 1,
    ) -> Fault:
        """Fault the next `times` calls of `method` ("*" for any), optionally to one chat only:
        an error status (with retry_after for a 429), a delay, or a dropped connection."""
        error = None
        if status is not None:
            parameters = {"retry_after": retry_after} if retry_after is not None else None
            default = f"Too Many Requests: retry after {retry_after}" if status == 429 else ""
            text = description or default or f"Error {status}"
            error = ApiError(status, text, parameters)
        fault = Fault(method.lower(), times, chat_id, error, delay, drop)
        self.faults.append(fault)
        return fault

    def clear_faults(self) -> None:
        self.faults.clear()

    def register_group(
        self, chat_id: int, title: str = "Back pain club", *, kind: str = "supergroup"
    ) -> Chat:
        """A group chat (negative id) the bot is a member of."""
        chat = self.register_user(chat_id, title)
        chat.kind = kind
        return chat

    # pushing updates as the user

    def push_update(self, kind: str, payload: JSONDict) -> JSONDict:
        """Queue an update of any type for the next getUpdates."""
        update = {"update_id": next(self._update_ids), kind: payload}
        self._pending_updates.append(update)
        self._signal()
        return update

    def push_message(self, user_id: int, text: str, *, first_name: str | None = None) -> JSONDict:
        fields: JSONDict = {"text": text}
        if text.startswith("/"):
            command = text.split(maxsplit=1)[0]
            fields["entities"] = [
                {"type": "bot_command", "offset": 0, "length": utf16_length(command)}
            ]
        return self._push_user_message(user_id, "text", fields, first_name)

    def push_sticker(self, user_id: int, *, emoji: str = "\N{THUMBS UP SIGN}") -> JSONDict:
        stored = self._store_file(b"RIFF-webp-sticker", "stickers", "webp")
        sticker = {
            **self._file_ids(stored),
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": emoji,
            "file_size": len(stored.data),
        }
        return self._push_user_message(user_id, "sticker", {"sticker": sticker})

    def push_photo(
        self, user_id: int, *, caption: str | None = None, data: bytes = TINY_PNG
    ) -> JSONDict:
        stored = self._store_file(data, "photos", "jpg")
        fields: JSONDict = {"photo": self._photo_sizes(stored)}
        if caption is not None:
            fields["caption"] = caption
        return self._push_user_message(user_id, "photo", fields)

    def push_voice(self, user_id: int, *, duration: int = 3) -> JSONDict:
        stored = self._store_file(b"OggS-fake-voice", "voice", "oga")
        voice = {
            **self._file_ids(stored),
            "duration": duration,
            "mime_type": "audio/ogg",
            "file_size": len(stored.data),
        }
        return self._push_user_message(user_id, "voice", {"voice": voice})

    def push_location(
        self, user_id: int, *, latitude: float = 52.3676, longitude: float = 4.9041
    ) -> JSONDict:
        location = {"latitude": latitude, "longitude": longitude}
        return self._push_user_message(user_id, "location", {"location": location})

    def push_document(
        self,
        user_id: int,
        *,
        file_name: str = "notes.pdf",
        data: bytes = b"%PDF-1.4 fake",
        mime_type: str = "application/pdf",
        caption: str | None = None,
    ) -> JSONDict:
        stored = self._store_file(data, "documents", file_name.rsplit(".", 1)[-1])
        document = {
            **self._file_ids(stored),
            "file_name": file_name,
            "mime_type": mime_type,
            "file_size": len(data),
        }
        fields: JSONDict = {"document": document}
        if caption is not None:
            fields["caption"] = caption
        return self._push_user_message(user_id, "document", fields)

    def push_callback(self, user_id: int, message_id: int, data: str) -> str:
        """The user presses a button carrying `data` under `message_id`; returns the query id.

        Nothing checks that such a button exists, so tests can forge any data. A message that
        does not exist arrives the way Telegram sends inaccessible messages (date 0).
        """
        chat = self.register_user(user_id)
        message = chat.messages.get(message_id)
        if message is not None and not message.deleted:
            message_payload = copy.deepcopy(message.payload)
        else:
            message_payload = {"message_id": message_id, "date": 0, "chat": chat.payload()}
        query_id = str(next(self._callback_ids))
        self._open_callbacks.add(query_id)
        query = {
            "id": query_id,
            "from": chat.user_payload(),
            "chat_instance": f"instance-{user_id}",
            "data": data,
            "message": message_payload,
        }
        self.push_update("callback_query", query)
        return query_id

    # reading what happened

    def calls_to(self, method: str) -> list[RecordedCall]:
        return [call for call in self.calls if call.method.lower() == method.lower()]

    def method_names(self) -> list[str]:
        return [call.method for call in self.calls]

    def chat(self, chat_id: int) -> Chat:
        return self.register_user(chat_id)

    def messages(self, chat_id: int) -> list[ChatMessage]:
        """Messages in the chat, oldest first, deleted ones left out."""
        return [m for m in self.chat(chat_id).messages.values() if not m.deleted]

    def bot_messages(self, chat_id: int) -> list[ChatMessage]:
        return [message for message in self.messages(chat_id) if message.from_bot]

    def replies(self, chat_id: int) -> list[BotReply]:
        """Everything the bot sent, edited or deleted in the chat, in order."""
        return self.chat(chat_id).replies

    def callback_answer(self, callback_query_id: str) -> AnsweredCallback | None:
        for answer in self.answered_callbacks:
            if answer.callback_query_id == callback_query_id:
                return answer
        return None

    @property
    def pending_updates(self) -> list[JSONDict]:
        """Updates the bot has not confirmed yet."""
        return list(self._pending_updates)

    @property
    def get_updates_count(self) -> int:
        """Authorized getUpdates calls so far, held ones included."""
        return sum(1 for call in self.calls_to("getUpdates") if call.token_ok)

    def describe_recent_calls(self, count: int = 15) -> str:
        return "; ".join(
            f"{call.method}->{call.status}" + (f" {call.description}" if call.description else "")
            for call in self.calls[-count:]
        )

    # waiting

    async def wait_for(
        self, predicate: Callable[[], T | None], timeout: float = 10.0, *, what: str = "condition"
    ) -> T:
        """Wait until predicate() is truthy, re-checked on every change; return its value."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            value = predicate()
            if value:
                return value
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(
                    f"{what} not met within {timeout}s; recent calls: "
                    f"{self.describe_recent_calls()}"
                )
            # Also wake on a timer: a predicate may watch something outside the server.
            await self._wait_for_change(min(remaining, _WAKE_INTERVAL))

    async def wait_for_call(
        self, method: str, *, since: int = 0, timeout: float = 10.0
    ) -> RecordedCall:
        """The first completed call of `method` at index `since` or later in `calls`."""

        def completed() -> RecordedCall | None:
            for call in self.calls[since:]:
                if call.method.lower() == method.lower() and call.status is not None:
                    return call
            return None

        return await self.wait_for(completed, timeout, what=f"a {method} call")

    async def wait_until_updates_confirmed(self, timeout: float = 10.0) -> None:
        """Wait until the bot has fetched and confirmed every pushed update."""
        await self.wait_for(
            lambda: not self._pending_updates, timeout, what="all updates confirmed"
        )

    async def _wait_for_change(self, timeout: float) -> None:
        changed = self._changed
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(changed.wait(), timeout)

    def _signal(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    # HTTP

    async def _handle_method(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        try:
            params, files = await read_request(request)
        except (ApiError, ValueError) as error:
            params, files = {}, {}
            parse_error: ApiError | None = (
                error if isinstance(error, ApiError) else bad_request("can't parse request body")
            )
        else:
            parse_error = None
        call = RecordedCall(
            method, params, files, token_ok=request.match_info["token"] == self.token
        )
        self.calls.append(call)
        self._signal()
        try:
            if not call.token_ok:
                raise ApiError(401, UNAUTHORIZED)
            if parse_error is not None:
                raise parse_error
            result = await self._dispatch(method, params, files, request)
        except DroppedConnection:
            call.status, call.description = 0, "connection dropped"
            self._signal()
            if request.transport is not None:
                request.transport.abort()
            return web.Response(status=500)
        except ApiError as error:
            call.status, call.description = error.status, error.description
            response = web.json_response(error.body(), status=error.status)
        else:
            call.status, call.result = 200, result
            response = web.json_response({"ok": True, "result": result})
        self._signal()
        return response

    async def _handle_file(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.json_response(ApiError(401, UNAUTHORIZED).body(), status=401)
        path = request.match_info["path"]
        for stored in self._files.values():
            if stored.file_path == path:
                return web.Response(body=stored.data)
        return web.json_response(ApiError(404, "Not Found").body(), status=404)

    async def _dispatch(
        self,
        method: str,
        params: JSONDict,
        files: dict[str, UploadedFile],
        request: web.Request | None = None,
    ) -> Any:
        name = method.lower()
        fault = next((f for f in self.faults if f.matches(name, params)), None)
        if fault is not None:
            fault.times -= 1
            fault.hits += 1
            if fault.delay:
                await asyncio.sleep(fault.delay)
                # A sender that died while the call was held never had it carried out.
                transport = request.transport if request is not None else None
                if request is not None and (transport is None or transport.is_closing()):
                    raise DroppedConnection(method)
            if fault.error is not None:
                raise fault.error
        handler = self._methods.get(name)
        if handler is None:
            self.unknown_methods.append(method)
            return True
        result = await handler(params, files)
        if fault is not None and fault.drop:
            raise DroppedConnection(method)
        return result

    # methods: bot and updates

    async def _true(self, params: JSONDict, files: dict[str, UploadedFile]) -> bool:
        return True

    async def _get_me(self, params: JSONDict, files: dict[str, UploadedFile]) -> JSONDict:
        return self.bot_user

    async def _get_webhook_info(self, params: JSONDict, files: dict[str, UploadedFile]) -> JSONDict:
        return {
            "url": "",
            "has_custom_certificate": False,
            "pending_update_count": len(self._pending_updates),
        }

    async def _set_my_commands(self, params: JSONDict, files: dict[str, UploadedFile]) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise bad_request("can't parse commands JSON object")
        for command in commands:
            if not isinstance(command, dict) or not command.get("command"):
                raise bad_request("BOT_COMMAND_INVALID")
            if not command.get("description"):
                raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        self.commands = commands
        return True

    async def _get_my_commands(
        self, params: JSONDict, files: dict[str, UploadedFile]
    ) -> list[JSONDict]:
        return self.commands

    async def _delete_my_commands(self, params: JSONDict, files: dict[str, UploadedFile]) -> bool:
        self.commands = []
        return True

    async def _get_updates(
        self, params: JSONDict, files: dict[str, UploadedFile]
    ) -> list[JSONDict]:
        offset = _optional_int(params, "offset")
        limit = min(max(_optional_int(params, "limit") or 100, 1), 100)
        timeout = float(params.get("timeout") or 0)
        if isinstance(params.get("allowed_updates"), list):
            self._allowed_updates = list(params["allowed_updates"])
        if offset is not None:
            self._confirm(offset)
        # A newer poll ends the one still held, as Telegram does with two bot instances.
        self._poll_generation += 1
        generation = self._poll_generation
        self._signal()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            if generation != self._poll_generation:
                raise ApiError(409, POLL_CONFLICT)
            updates = self._deliverable_updates(limit)
            remaining = deadline - loop.time()
            if updates or remaining <= 0 or self._closing:
                return updates
            await self._wait_for_change(remaining)

    def _confirm(self, offset: int) -> None:
        if offset < 0:
            confirmed = self._pending_updates[:offset]
        else:
            confirmed = [u for u in self._pending_updates if u["update_id"] < offset]
        if confirmed:
            self.highest_confirmed_update_id = confirmed[-1]["update_id"]
            self._pending_updates = self._pending_updates[len(confirmed) :]

    def _deliverable_updates(self, limit: int) -> list[JSONDict]:
        # Telegram never queues updates of types the bot did not ask for.
        self._pending_updates = [u for u in self._pending_updates if self._is_allowed(u)]
        return copy.deepcopy(self._pending_updates[:limit])

    def _is_allowed(self, update: JSONDict) -> bool:
        kind = next(key for key in update if key != "update_id")
        if self._allowed_updates:
            return kind in self._allowed_updates
        return kind not in _OPT_IN_UPDATE_TYPES

    # methods: sending

    def _target_chat(self, params: JSONDict) -> Chat:
        chat_id = _int_param(params, "chat_id")
        chat = self.register_user(chat_id)
        if chat.blocked:
            raise ApiError(403, BLOCKED_BY_USER)
        return chat

    async def _send_message(self, params: JSONDict, files: dict[str, UploadedFile]) -> JSONDict:
        chat = self._target_chat(params)
        sent_text = _str_param(params, "text", missing="message text is empty")
        parse_mode = params.get("parse_mode")
        text = visible_text(sent_text, parse_mode)
        if not text.strip():
            raise bad_request("message text is empty")
        if utf16_length(text) > MAX_TEXT_LENGTH:
            raise bad_request("message is too long")
        markup = validated_markup(params.get("reply_markup"))
        return self._add_bot_message(
            chat,
            "sendMessage",
            kind="text",
            fields={"text": text},
            sent_text=sent_text,
            parse_mode=parse_mode,
            markup=markup,
        )

    async def _send_photo(self, params: JSONDict, files: dict[str, UploadedFile]) -> JSONDict:
        chat = self._target_chat(params)
        upload, stored = self._media(params, files, "photo", "photos", "jpg")
        fields: JSONDict = {"photo": self._photo_sizes(stored)}
        return self._send_media(chat, "sendPhoto", "photo", fields, params, upload)

    async def _send_document(self, params: JSONDict, files: dict[str, UploadedFile]) -> JSONDict:
        chat = self._target_chat(params)
        upload, stored = self._media(params, files, "document", "documents", "bin")
        document: JSONDict = {**self._file_ids(stored), "file_size": len(stored.data)}
        if upload is not None:
            document["file_name"] = upload.filename or "file"
            document["mime_type"] = upload.content_type
        return self._send_media(
            chat, "sendDocument", "document", {"document": document}, params, upload
        )

    def _media(
        self, params: JSONDict, files: dict[str, UploadedFile], name: str, folder: str, ext: str
    ) -> tuple[UploadedFile | None, _StoredFile]:
        """The uploaded file part, or a file_id the bot sent before."""
        upload = files.get(name)
        if upload is not None:
            return upload, self._store_file(upload.data, folder, ext)
        reference = params.get(name)
        if isinstance(reference, str) and reference in self._files:
            return None, self._files[reference]
        if isinstance(reference, str) and reference.startswith(("http://", "https://")):
            return None, self._store_file(b"", folder, ext)
        raise bad_request(f"there is no {name} in the request")

    def _send_media(
        self,
        chat: Chat,
        method: str,
        kind: str,
        fields: JSONDict,
        params: JSONDict,
        upload: UploadedFile | None,
    ) -> JSONDict:
        sent_caption = params.get("caption")
        parse_mode = params.get("parse_mode")
        caption = None
        if sent_caption:
            caption = visible_text(str(sent_caption), parse_mode)
            if utf16_length(caption) > MAX_CAPTION_LENGTH:
                raise bad_request("message caption is too long")
            fields["caption"] = caption
        return self._add_bot_message(
            chat,
            method,
            kind=kind,
            fields=fields,
            sent_text=sent_caption,
            parse_mode=parse_mode,
            markup=validated_markup(params.get("reply_markup")),
            file=upload,
        )

    async def _send_chat_action(self, params: JSONDict, files: dict[str, UploadedFile]) -> bool:
        self._target_chat(params)
        return True

    def _add_bot_message(
        self,
        chat: Chat,
        method: str,
        *,
        kind: str,
        fields: JSONDict,
        sent_text: str | None,
        parse_mode: str | None,
        markup: JSONDict | None,
        file: UploadedFile | None = None,
    ) -> JSONDict:
        message_id = chat.next_message_id()
        payload: JSONDict = {
            "message_id": message_id,
            "from": self.bot_user,
            "chat": chat.payload(),
            "date": _now(),
            **fields,
        }
        inline = _inline_only(markup)
        if inline is not None:
            payload["reply_markup"] = inline
        message = ChatMessage(
            chat_id=chat.chat_id,
            message_id=message_id,
            from_bot=True,
            kind=kind,
            text=fields.get("text", fields.get("caption")),
            sent_text=sent_text,
            parse_mode=parse_mode,
            reply_markup=inline,
            payload=payload,
            file=file,
        )
        chat.messages[message_id] = message
        self._apply_reply_keyboard(chat, markup)
        chat.replies.append(BotReply.of("sent", method, message, markup))
        return payload

    @staticmethod
    def _apply_reply_keyboard(chat: Chat, markup: JSONDict | None) -> None:
        if not markup:
            return
        if "keyboard" in markup:
            chat.reply_keyboard = [
                [button if isinstance(button, str) else button.get("text", "") for button in row]
                for row in markup["keyboard"]
            ]
        elif markup.get("remove_keyboard"):
            chat.reply_keyboard = None

    # methods: editing

    def _message_to_edit(self, params: JSONDict) -> ChatMessage:
        chat = self._target_chat(params)
        message = chat.messages.get(_int_param(params, "message_id"))
        if message is None or message.deleted:
            raise bad_request("message to edit not found")
        if not message.from_bot:
            raise bad_request("message can't be edited")
        return message

    async def _edit_message_text(self, params: JSONDict, files: dict[str, UploadedFile]) -> Any:
        if params.get("inline_message_id"):
            return True
        message = self._message_to_edit(params)
        if message.kind != "text":
            raise bad_request("there is no text in the message to edit")
        sent_text = _str_param(params, "text", missing="message text is empty")
        parse_mode = params.get("parse_mode")
        text = visible_text(sent_text, parse_mode)
        if not text.strip():
            raise bad_request("message text is empty")
        if utf16_length(text) > MAX_TEXT_LENGTH:
            raise bad_request("message is too long")
        markup = validated_markup(params.get("reply_markup"))
        self._ensure_modified(message, text, sent_text, markup)
        message.payload["text"] = text
        return self._apply_edit(message, "editMessageText", text, sent_text, parse_mode, markup)

    async def _edit_message_caption(self, params: JSONDict, files: dict[str, UploadedFile]) -> Any:
        if params.get("inline_message_id"):
            return True
        message = self._message_to_edit(params)
        if message.kind == "text":
            raise bad_request("there is no caption in the message to edit")
        sent_caption = str(params.get("caption") or "")
        parse_mode = params.get("parse_mode")
        caption = visible_text(sent_caption, parse_mode)
        if utf16_length(caption) > MAX_CAPTION_LENGTH:
            raise bad_request("message caption is too long")
        markup = validated_markup(params.get("reply_markup"))
        self._ensure_modified(message, caption, sent_caption, markup)
        if caption:
            message.payload["caption"] = caption
        else:
            message.payload.pop("caption", None)
        return self._apply_edit(
            message, "editMessageCaption", caption or None, sent_caption, parse_mode, markup
        )

    async def _edit_message_reply_markup(
        self, params: JSONDict, files: dict[str, UploadedFile]
    ) -> Any:
        if params.get("inline_message_id"):
            return True
        message = self._message_to_edit(params)
        markup = validated_markup(params.get("reply_markup"))
        self._ensure_modified(message, message.text, message.sent_text, markup)
        return self._apply_edit(
            message,
            "editMessageReplyMarkup",
            message.text,
            message.sent_text,
            message.parse_mode,
            markup,
        )

    @staticmethod
    def _ensure_modified(
        message: ChatMessage, text: str | None, sent_text: str | None, markup: JSONDict | None
    ) -> None:
        if (message.text, message.sent_text, message.reply_markup) == (
            text,
            sent_text,
            _inline_only(markup),
        ):
            raise ApiError(400, NOT_MODIFIED)

    def _apply_edit(
        self,
        message: ChatMessage,
        method: str,
        text: str | None,
        sent_text: str | None,
        parse_mode: str | None,
        markup: JSONDict | None,
    ) -> JSONDict:
        # An edit without reply_markup removes the inline keyboard, as on Telegram.
        inline = _inline_only(markup)
        message.text, message.sent_text, message.parse_mode = text, sent_text, parse_mode
        message.reply_markup = inline
        message.edit_count += 1
        message.payload["edit_date"] = _now()
        if inline is None:
            message.payload.pop("reply_markup", None)
        else:
            message.payload["reply_markup"] = inline
        self.chat(message.chat_id).replies.append(BotReply.of("edited", method, message, markup))
        return message.payload

    async def _delete_message(self, params: JSONDict, files: dict[str, UploadedFile]) -> bool:
        chat = self._target_chat(params)
        message = chat.messages.get(_int_param(params, "message_id"))
        if message is None or message.deleted:
            raise bad_request("message to delete not found")
        message.deleted = True
        chat.replies.append(BotReply.of("deleted", "deleteMessage", message, None))
        return True

    async def _answer_callback_query(
        self, params: JSONDict, files: dict[str, UploadedFile]
    ) -> bool:
        query_id = str(params.get("callback_query_id", ""))
        if query_id not in self._open_callbacks:
            raise ApiError(400, QUERY_TOO_OLD)
        self._open_callbacks.discard(query_id)
        self.answered_callbacks.append(
            AnsweredCallback(
                callback_query_id=query_id,
                text=params.get("text"),
                show_alert=bool(params.get("show_alert", False)),
                url=params.get("url"),
            )
        )
        return True

    # files

    async def _get_file(self, params: JSONDict, files: dict[str, UploadedFile]) -> JSONDict:
        stored = self._files.get(str(params.get("file_id", "")))
        if stored is None:
            raise bad_request("invalid file_id")
        return {
            **self._file_ids(stored),
            "file_size": len(stored.data),
            "file_path": stored.file_path,
        }

    def _store_file(self, data: bytes, folder: str, ext: str) -> _StoredFile:
        number = next(self._file_counter)
        stored = _StoredFile(
            file_id=f"FAKE-FILE-{number:06d}",
            file_unique_id=f"U{number:06d}",
            file_path=f"{folder}/file_{number}.{ext}",
            data=data,
        )
        self._files[stored.file_id] = stored
        return stored

    @staticmethod
    def _file_ids(stored: _StoredFile) -> JSONDict:
        return {"file_id": stored.file_id, "file_unique_id": stored.file_unique_id}

    def _photo_sizes(self, stored: _StoredFile) -> list[JSONDict]:
        size = {**self._file_ids(stored), "file_size": len(stored.data)}
        return [{**size, "width": 90, "height": 90}, {**size, "width": 800, "height": 800}]

    def push_group_message(self, group_id: int, user_id: int, text: str) -> JSONDict:
        """`user_id` writes `text` in the group `group_id` (register_group first)."""
        fields: JSONDict = {"text": text}
        if text.startswith("/"):
            command = text.split(maxsplit=1)[0]
            fields["entities"] = [
                {"type": "bot_command", "offset": 0, "length": utf16_length(command)}
            ]
        return self._push_user_message(user_id, "text", fields, chat_id=group_id)

    def push_group_callback(self, group_id: int, user_id: int, message_id: int, data: str) -> str:
        """`user_id` presses a button under the bot's message `message_id` in a group."""
        group = self.chat(group_id)
        sender = self.register_user(user_id)
        message = group.messages.get(message_id)
        payload = (
            copy.deepcopy(message.payload)
            if message is not None
            else {"message_id": message_id, "date": 0, "chat": group.payload()}
        )
        query_id = str(next(self._callback_ids))
        self._open_callbacks.add(query_id)
        query = {
            "id": query_id,
            "from": sender.user_payload(),
            "chat_instance": f"instance-{group_id}",
            "data": data,
            "message": payload,
        }
        self.push_update("callback_query", query)
        return query_id

    def _push_user_message(
        self,
        user_id: int,
        kind: str,
        fields: JSONDict,
        first_name: str | None = None,
        *,
        chat_id: int | None = None,
    ) -> JSONDict:
        sender = self.register_user(user_id, first_name)
        chat = sender if chat_id is None else self.chat(chat_id)
        message_id = chat.next_message_id()
        payload: JSONDict = {
            "message_id": message_id,
            "from": sender.user_payload(),
            "chat": chat.payload(),
            "date": _now(),
            **fields,
        }
        text = fields.get("text", fields.get("caption"))
        chat.messages[message_id] = ChatMessage(
            chat_id=chat.chat_id,
            message_id=message_id,
            from_bot=False,
            kind=kind,
            text=text,
            sent_text=text,
            parse_mode=None,
            reply_markup=None,
            payload=payload,
        )
        return self.push_update("message", payload)
