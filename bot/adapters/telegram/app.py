"""The Telegram adapter: translates updates into `Incoming` and `Reply` objects into Bot API calls.

No business rule lives here; every decision is made by `Conversation` (backchain.bot.chat).
What lives here is transport: the order updates run in, the inbox that keeps them across a
crash, the send budget, group privacy and the start-up checks.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import httpx
from aiolimiter import AsyncLimiter
from backchain.bot.adapters.clock import file_clock
from backchain.bot.adapters.config import Settings
from backchain.bot.adapters.metrics import Metrics
from backchain.bot.adapters.telegram.edge import parse_update
from backchain.bot.adapters.telegram.patience import LOOP_BUSY_TIMEOUT_MS, when_free
from backchain.bot.adapters.telegram.polling import InboxRequest
from backchain.bot.adapters.telegram.processor import OrderedUpdateProcessor
from backchain.bot.adapters.telegram.sending import SendBudget, SendEvents, SendLimits
from backchain.bot.chat.conversation import COMMANDS, Conversation
from backchain.bot.chat.incoming import Incoming, Kind
from backchain.bot.chat.replies import Outcome, Reply, split_text
from backchain.bot.chat.services import Services, build_services, utc_now
from backchain.storage.errors import StorageBusy
from backchain.storage.inbox import Inbox
from telegram import (
    BotCommand,
    Chat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest, Conflict, Forbidden, NetworkError, TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackContext,
    CallbackQueryHandler,
    ContextTypes,
    ExtBot,
    MessageHandler,
    filters,
)
from telegram.request import BaseRequest, HTTPXRequest

logger = logging.getLogger(__name__)

# Commands whose answer is about one person: in a group they only point to the private chat.
PERSONAL_COMMANDS = frozenset(
    {
        "start",
        "session",
        "progress",
        "export",
        "profile",
        "health",
        "remind",
        "reminders",
        "timezone",
        "forget",
    }
)
# Button namespaces that show general content and so may be pressed in a group.
PUBLIC_PRESSES = frozenset({"t", "g"})
# Commands that draw a chart or write files: run in a worker thread, off the event loop.
HEAVY_COMMANDS = frozenset({"progress", "export"})
GROUP_CHATS = frozenset({Chat.GROUP, Chat.SUPERGROUP})


@dataclass
class Wiring:
    """The long-lived objects every handler uses, assembled once in `build_application`."""

    settings: Settings
    services: Services
    conversation: Conversation
    inbox: Inbox
    processor: OrderedUpdateProcessor
    metrics: Metrics = field(default_factory=Metrics)
    heavy: HeavyWork | None = None
    # Spaces out the preparation of bulk sends (one at a time, at the bulk rate), so a burst of
    # reminders never takes the event loop for a long stretch.
    bulk_pace: AsyncLimiter = field(default_factory=lambda: AsyncLimiter(1, 1 / 20))
    inbox_pruned_at: float = 0.0  # when the reminder tick last pruned the inbox
    warming: asyncio.Task[int] | None = None  # the reader being prepared after start
    # Updates from the inbox handled again after a restart (a press there may need its reply).
    replayed: set[int] = field(default_factory=set)


class BotData:
    """Typed bot_data (python-telegram-bot's `ContextTypes`): one attribute, set at build time."""

    def __init__(self) -> None:
        self._wiring: Wiring | None = None

    def wire(self, wiring: Wiring) -> None:
        self._wiring = wiring

    @property
    def wiring(self) -> Wiring:
        if self._wiring is None:
            raise RuntimeError("bot_data used before build_application wired it")
        return self._wiring

    @property
    def settings(self) -> Settings:
        return self.wiring.settings

    @property
    def services(self) -> Services:
        return self.wiring.services

    @property
    def conversation(self) -> Conversation:
        return self.wiring.conversation


Context = CallbackContext[ExtBot[str], dict[Any, Any], dict[Any, Any], BotData]
CONTEXT_TYPES = ContextTypes(bot_data=BotData)


class HeavyWork:
    """Charts and exports in one worker thread with a database connection of its own.

    The event loop keeps answering everyone else meanwhile; the per-user order still holds,
    because the handler awaits the result inside that user's turn.
    """

    def __init__(self, settings: Settings, services: Services):
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="backchain-heavy")
        self._settings = settings
        self._services = services
        self._conversation: Conversation | None = None

    def _build(self) -> Conversation:
        # Built in the worker thread, so the connection belongs to the thread that uses it.
        if self._conversation is None:
            services = build_services(
                self._settings.db_path,
                self._settings.content_dir,
                files_dir=self._services.files_dir,
            )
            services.clock = self._services.clock
            self._conversation = Conversation(services)
        return self._conversation

    async def handle(self, incoming: Incoming) -> Outcome:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.executor, lambda: self._build().handle(incoming))

    def close(self) -> None:
        self.executor.shutdown(wait=True)
        if self._conversation is not None:
            self._conversation.services.close()


# Seconds a stopping bot gives running handlers; the rest stay in the inbox for the next start.
STOP_GRACE = 5.0


class BackchainApplication(Application[Any, Any, Any, Any, BotData, Any]):
    """The library's Application with a bounded stop: a reply waiting out a group's rate
    limit or a long flood wait does not hold a SIGTERM for minutes."""

    async def stop(self) -> None:
        processor = self.update_processor
        if isinstance(processor, OrderedUpdateProcessor):
            processor.stop_after(STOP_GRACE)
        await super().stop()


def keyboard(reply: Reply) -> InlineKeyboardMarkup | None:
    if not reply.buttons:
        return None
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(b.label, callback_data=b.data) for b in row]
            for row in reply.buttons
        ]
    )


async def send_reply(
    context: Context, chat_id: int, reply: Reply, pressed: int | None = None
) -> None:
    """Send one reply: edited in place when asked and possible, split when too long."""
    bot = context.bot
    markup = keyboard(reply)
    if reply.edit and pressed is not None:
        try:
            await bot.edit_message_text(
                reply.text,
                chat_id=chat_id,
                message_id=pressed,
                parse_mode=ParseMode.HTML,
                reply_markup=markup,
            )
            return
        except BadRequest as exc:
            if "not modified" in exc.message:
                return
            # Too old or deleted: send the reply as a new message instead.
            logger.debug("edit failed, sending anew: %s", exc.message)
    chunks = split_text(reply.text)
    for index, chunk in enumerate(chunks):
        last = index == len(chunks) - 1
        await bot.send_message(
            chat_id, chunk, parse_mode=ParseMode.HTML, reply_markup=markup if last else None
        )
    if reply.image is not None:
        with reply.image.open("rb") as photo:
            await bot.send_photo(chat_id, photo=photo)
    if reply.document is not None:
        with reply.document.open("rb") as document:
            await bot.send_document(chat_id, document=document, filename=reply.document.name)
    if reply.temporary:
        for path in (reply.image, reply.document):
            if path is not None:
                path.unlink(missing_ok=True)
                with contextlib.suppress(OSError):
                    path.parent.rmdir()  # the reply's own folder, once empty


def schedule_timers(
    context: Context, incoming: Incoming, outcome: Outcome, pressed: int | None = None
) -> None:
    """Schedule and cancel session timers; a timer remembers the message it was started from,
    so what it says edits that message in place."""
    job_queue = context.job_queue
    if job_queue is None:
        return
    for prefix in outcome.cancel_timers:
        for job in job_queue.jobs():
            if job.name and job.name.startswith(prefix):
                job.schedule_removal()
    scale = context.bot_data.settings.timer_scale
    for timer in outcome.timers:
        job_queue.run_once(
            on_timer,
            when=timer.seconds * scale,
            name=timer.name,
            chat_id=incoming.chat_id,
            user_id=incoming.user_id,
            data=(timer.callback_data, pressed),
        )


async def deliver(context: Context, incoming: Incoming, pressed: int | None = None) -> None:
    """Run one input through the conversation and render what it says; `pressed` is the id of
    the message whose button (or timer) this input came from."""
    wiring = context.bot_data.wiring
    heavy = wiring.heavy
    if heavy is not None and incoming.kind is Kind.COMMAND and incoming.text in HEAVY_COMMANDS:
        outcome = await heavy.handle(incoming)
    else:
        outcome = await handle_patiently(wiring, incoming)
    schedule_timers(context, incoming, outcome, pressed)
    for reply in outcome.replies:
        await send_reply(context, incoming.chat_id, reply, pressed)


async def handle_patiently(wiring: Wiring, incoming: Incoming) -> Outcome:
    """One turn of the conversation; while another process locks the database, this user's
    turn waits (everyone else's goes on) up to the configured patience, then says so."""
    conversation = wiring.conversation
    try:
        return await when_free(
            lambda: conversation.handle_turn(incoming), wiring.settings.db_patience
        )
    except StorageBusy:
        wiring.metrics.errors.labels("db-locked").inc()
        logger.warning(
            "database locked for over %.0f s: one input answered with a retry hint",
            wiring.settings.db_patience,
        )
        return Outcome().say(Reply(conversation.msg("database_busy")))


def has_chat(message: Message) -> bool:
    """False for a message without its chat (malformed, yet parsed): there is nowhere to reply."""
    return getattr(message, "chat", None) is not None


def command_of(message: Message, bot_username: str | None) -> tuple[str, bool] | None:
    """(command name, addressed to us) for a message starting with a command, else None."""
    text = (message.text or "").strip()
    if not text.startswith("/") or len(text) < 2:
        return None
    head = text[1:].split(maxsplit=1)[0]
    name, _, target = head.partition("@")
    ours = not target or (bot_username is not None and target.lower() == bot_username.lower())
    return name.lower(), ours


async def point_to_private_chat(context: Context, chat_id: int) -> None:
    """One line and a button that opens the private chat; nothing personal in the group."""
    msg = context.bot_data.conversation.msg
    username = context.bot.username
    button = InlineKeyboardButton(
        msg("private_only_button"), url=f"https://t.me/{username}?start=from-group"
    )
    await context.bot.send_message(
        chat_id,
        msg("private_only_in_group"),
        parse_mode=ParseMode.HTML,
        reply_markup=InlineKeyboardMarkup([[button]]),
    )


async def on_message(update: Update, context: Context) -> None:
    """Text and commands: commands are parsed by the core, like the console does."""
    message = update.effective_message
    user = update.effective_user
    if message is None or user is None or message.text is None or not has_chat(message):
        return
    command = command_of(message, context.bot.username)
    if command is not None and not command[1]:
        return  # "/help@otherbot" is for another bot
    in_group = message.chat.type in GROUP_CHATS
    if in_group and command is not None and command[0] in PERSONAL_COMMANDS:
        await point_to_private_chat(context, message.chat_id)
        return
    if in_group and command is not None and command[0] not in COMMANDS:
        return  # a group has other bots; their commands are not ours to answer
    incoming = Incoming.text_message(user.id, message.chat_id, message.text)
    if in_group and incoming.kind is Kind.TEXT:
        # A question asked in a group is answered like `backchain ask`: no state is touched,
        # so nothing the member started privately (a reminder prompt, a session) can land here.
        await send_group_answer(context, message.chat_id, message.text)
        return
    await deliver(context, incoming)


async def send_group_answer(context: Context, chat_id: int, text: str) -> None:
    outcome = context.bot_data.conversation.answer_in_public(text)
    for reply in outcome.replies:
        await send_reply(context, chat_id, reply)


async def on_other(update: Update, context: Context) -> None:
    """Stickers, photos, voice, locations, documents: politely ask for text (not in groups)."""
    message = update.effective_message
    user = update.effective_user
    if message is None or user is None or not has_chat(message):
        return
    if message.chat.type in GROUP_CHATS:
        return
    await deliver(context, Incoming.other(user.id, message.chat_id))


async def on_press(update: Update, context: Context) -> None:
    """A button press. It counts first; the query is answered after, and its failure ignored."""
    query = update.callback_query
    if query is None:
        return
    message = query.message if isinstance(query.message, Message) else None
    if message is not None and not has_chat(message):
        message = None
    chat_id = message.chat_id if message is not None else query.from_user.id
    data = query.data or ""
    try:
        namespace = data.split(":", 1)[0]
        if message is not None and message.chat.type in GROUP_CHATS:
            if namespace in PUBLIC_PRESSES:
                await send_group_press(context, chat_id, query.from_user.id, data)
            else:
                await point_to_private_chat(context, chat_id)
        else:
            pressed = message.message_id if message is not None else None
            again = update.update_id in context.bot_data.wiring.replayed
            context.bot_data.wiring.replayed.discard(update.update_id)
            incoming = Incoming.press(query.from_user.id, chat_id, data, replayed=again)
            await deliver(context, incoming, pressed)
    finally:
        # Telegram refuses to answer a query older than a few seconds, and answering can fail
        # like any call: the press has been handled either way.
        try:
            await query.answer()
        except TelegramError as exc:
            logger.info("callback query not answered: %s", exc.message)


async def send_group_press(context: Context, chat_id: int, user_id: int, data: str) -> None:
    outcome = await handle_patiently(
        context.bot_data.wiring, Incoming.press(user_id, chat_id, data)
    )
    for reply in outcome.replies:
        await send_reply(context, chat_id, Reply(reply.text, reply.buttons))


async def on_timer(context: Context) -> None:
    """A session timer fired: feed its event back to the conversation, in the user's turn."""
    job = context.job
    if job is None or job.user_id is None or job.chat_id is None:
        return
    processor = context.bot_data.wiring.processor
    keys = [f"user:{job.user_id}"] + ([] if job.chat_id == job.user_id else [f"chat:{job.chat_id}"])
    data, pressed = job.data if isinstance(job.data, tuple) else (job.data, None)
    async with processor.ordered(*keys):
        await deliver(context, Incoming.press(job.user_id, job.chat_id, str(data)), pressed)


async def on_error(update: object, context: Context) -> None:
    """Expected conditions are one line; anything else is logged with its traceback first,
    then the user is told something went wrong; the bot keeps running."""
    error = context.error
    metrics = context.bot_data.wiring.metrics
    if isinstance(error, Forbidden):
        metrics.errors.labels("blocked").inc()
        logger.info("a user has blocked the bot: %s", error.message)
        return
    if update is None and isinstance(error, Conflict):
        metrics.errors.labels("poll").inc()
        logger.warning("getUpdates conflict: another instance polls with this token")
        return
    if update is None and isinstance(error, NetworkError):
        metrics.errors.labels("poll").inc()
        logger.warning("getUpdates failed: %s; polling again", error.message)
        return
    if isinstance(error, NetworkError) and not isinstance(error, BadRequest):
        metrics.errors.labels("send").inc()
        logger.warning("a reply could not be delivered: %s", error.message)
    else:
        metrics.errors.labels("handler").inc()
        logger.error("error while handling an update", exc_info=error)
    if isinstance(update, Update) and update.effective_chat is not None:
        try:
            await context.bot.send_message(
                update.effective_chat.id, context.bot_data.conversation.msg("something_went_wrong")
            )
        except TelegramError as exc:
            logger.info("could not say something went wrong: %s", exc.message)


async def replay_inbox(application: Application[Any, Any, Any, Any, BotData, Any]) -> int:
    """Put updates confirmed to Telegram but never handled (a crash) first in the queue."""
    wiring = application.bot_data.wiring
    replayed = 0
    for stored in wiring.inbox.pending():
        update = parse_update(stored.payload, application.bot)
        if update is None:
            wiring.inbox.skip(stored.update_id, stored.payload)
            continue
        wiring.replayed.add(update.update_id)
        await application.update_queue.put(update)
        replayed += 1
    if replayed:
        logger.info("handling %d update(s) received before the last stop", replayed)
    return replayed


async def post_init(application: Application[Any, Any, Any, Any, BotData, Any]) -> None:
    """Register the command menu, replay the inbox and start the reminder tick."""
    wiring = application.bot_data.wiring
    conversation = wiring.conversation
    commands = [BotCommand(name, conversation.msg(f"cmd_{name}")) for name in COMMANDS]
    try:
        await application.bot.set_my_commands(commands)
    except TelegramError as exc:
        logger.warning("command menu not set: %s", exc.message)
    await replay_inbox(application)
    wiring.warming = warm_in_background(wiring.services, lambda: wiring.processor.busy)
    from backchain.bot.adapters.telegram.reminders import start_reminder_tick

    start_reminder_tick(application)


# While updates are being handled, preparing the reader waits this long before looking again.
PREPARE_PAUSE = 0.01


def warm_in_background(
    services: Services, busy: Callable[[], bool] = lambda: False
) -> asyncio.Task[int]:
    """What the reader builds when first needed (red-flag patterns), built now on the event
    loop in steps well under a millisecond, only while no update is being handled (`busy`):
    the first messages after a start neither pay for it nor wait behind it."""

    async def prepare() -> int:
        started = time.monotonic()
        steps = 0
        try:
            for _ in services.understander.warm_steps():
                steps += 1
                await asyncio.sleep(0)
                while busy():
                    await asyncio.sleep(PREPARE_PAUSE)
        except Exception as error:  # a bug here must not stop the bot: first use builds it
            logger.warning("reader not prepared ahead (built on first use instead): %s", error)
            return steps
        logger.info("reader prepared: %d patterns in %.2f s", steps, time.monotonic() - started)
        return steps

    return asyncio.get_running_loop().create_task(prepare(), name="prepare-reader")


async def post_shutdown(application: Application[Any, Any, Any, Any, BotData, Any]) -> None:
    wiring = application.bot_data.wiring
    if wiring.heavy is not None:
        wiring.heavy.close()
    wiring.services.close()
    logger.info("database closed")


def _mark_done(inbox: Inbox, metrics: Metrics) -> Callable[[object, float], Awaitable[None]]:
    async def finished(update: object, seconds: float) -> None:
        if isinstance(update, Update):
            update_id = update.update_id
            # Left unmarked, it would be handled again after a restart: however long another
            # program locks the database, this waits (nobody waits for it).
            await when_free(lambda: inbox.done(update_id), math.inf)
            kind = "press" if update.callback_query else "message" if update.message else "other"
            metrics.updates.labels(kind).inc()
            metrics.latency.observe(seconds)

    return finished


def send_events(metrics: Metrics) -> SendEvents:
    events = SendEvents()
    events.on_flood_wait = lambda method: metrics.send_retries.labels(method, "flood").inc()
    events.on_retry = lambda method, kind: metrics.send_retries.labels(method, kind).inc()
    events.on_give_up = lambda method, kind: metrics.errors.labels(f"send-{kind}").inc()
    events.queue_length = metrics.send_queue.set
    return events


def build_application(
    settings: Settings,
    services: Services | None = None,
    request: BaseRequest | None = None,
    limits: SendLimits | None = None,
) -> Application[Any, Any, Any, Any, BotData, Any]:
    """Assemble services, handlers, jobs and the error handler.

    `request` replaces the HTTP layer (tests pass an offline one); `limits` the send budget's
    tuning (Telegram's own limits unless given).
    """
    assert settings.token, "build_application needs a token"
    services = services or build_services(
        settings.db_path,
        settings.content_dir,
        clock=file_clock(settings.clock_file) if settings.clock_file else utc_now,
        files_dir=settings.files_dir,
        busy_timeout_ms=LOOP_BUSY_TIMEOUT_MS,
    )
    inbox = services.storage.inbox
    metrics = Metrics()
    processor = OrderedUpdateProcessor()
    processor.on_finished = _mark_done(inbox, metrics)
    limits = limits or SendLimits(
        bulk_per_second=settings.bulk_per_second,
        max_flood_wait=settings.send_max_wait,
        max_retry_seconds=settings.send_retry_seconds,
    )
    builder = (
        ApplicationBuilder()
        .application_class(BackchainApplication)
        .token(settings.token)
        .context_types(CONTEXT_TYPES)
        .concurrent_updates(processor)
        .rate_limiter(SendBudget(limits, send_events(metrics)))
        .post_init(post_init)
        .post_shutdown(post_shutdown)
    )
    if request is not None:
        builder = builder.request(request).get_updates_request(
            InboxRequest(inbox, request, settings.db_patience)
        )
    else:
        timeout = settings.send_timeout
        # One TLS context for both clients: each would otherwise build its own, exactly alike,
        # and loading the CA bundle is most of what building a client costs at start.
        tls = {"verify": httpx.create_ssl_context()}
        sending = HTTPXRequest(
            connection_pool_size=256, read_timeout=timeout, write_timeout=timeout, httpx_kwargs=tls
        )
        polling = HTTPXRequest(connection_pool_size=1, httpx_kwargs=tls)
        builder = builder.request(sending).get_updates_request(
            InboxRequest(inbox, polling, settings.db_patience)
        )
    if settings.api_url:
        base = settings.api_url.rstrip("/")
        builder = builder.base_url(base).base_file_url(base.removesuffix("/bot") + "/file/bot")
    application = builder.build()
    heavy = None if services.storage.in_memory else HeavyWork(settings, services)
    application.bot_data.wire(
        Wiring(
            settings,
            services,
            Conversation(services),
            inbox,
            processor,
            metrics,
            heavy,
            AsyncLimiter(1, 1 / limits.bulk_per_second),
        )
    )
    # Order matters: text (commands included) first, button presses, then everything else.
    application.add_handler(MessageHandler(filters.UpdateType.MESSAGE & filters.TEXT, on_message))
    application.add_handler(CallbackQueryHandler(on_press))
    application.add_handler(MessageHandler(filters.UpdateType.MESSAGE & ~filters.TEXT, on_other))
    application.add_error_handler(on_error)
    return application
