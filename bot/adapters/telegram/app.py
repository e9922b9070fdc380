"""The Telegram adapter: translates updates into `Incoming` and `Reply` objects into Bot API calls.

No business rule lives here; every decision is made by `Conversation` (backchain.bot.chat).
"""

from __future__ import annotations

import contextlib
import logging
import secrets
from urllib.parse import urlparse

from backchain.bot.adapters.clock import file_clock
from backchain.bot.adapters.config import Settings
from backchain.bot.adapters.logsafety import install_token_redaction
from backchain.bot.chat.conversation import COMMANDS, Conversation
from backchain.bot.chat.incoming import Incoming
from backchain.bot.chat.replies import Outcome, Reply, split_text
from backchain.bot.chat.services import Services, build_services, utc_now
from telegram import (
    BotCommand,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    ContextTypes,
    MessageHandler,
    filters,
)
from telegram.request import BaseRequest

logger = logging.getLogger(__name__)

CONVERSATION = "conversation"
SERVICES = "services"
SETTINGS = "settings"


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
    context: ContextTypes.DEFAULT_TYPE, chat_id: int, reply: Reply, pressed: int | None = None
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
    context: ContextTypes.DEFAULT_TYPE,
    incoming: Incoming,
    outcome: Outcome,
    pressed: int | None = None,
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
    scale = context.bot_data[SETTINGS].timer_scale
    for timer in outcome.timers:
        job_queue.run_once(
            on_timer,
            when=timer.seconds * scale,
            name=timer.name,
            chat_id=incoming.chat_id,
            user_id=incoming.user_id,
            data=(timer.callback_data, pressed),
        )


async def deliver(
    context: ContextTypes.DEFAULT_TYPE, incoming: Incoming, pressed: int | None = None
) -> None:
    """Run one input through the conversation and render what it says; `pressed` is the id of
    the message whose button (or timer) this input came from."""
    conversation: Conversation = context.bot_data[CONVERSATION]
    outcome = conversation.handle(incoming)
    schedule_timers(context, incoming, outcome, pressed)
    for reply in outcome.replies:
        await send_reply(context, incoming.chat_id, reply, pressed)


async def on_message(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Text and commands: commands are parsed by the core, like the console does."""
    message = update.effective_message
    user = update.effective_user
    if message is None or user is None or message.text is None:
        return
    await deliver(context, Incoming.text_message(user.id, message.chat_id, message.text))


async def on_other(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Stickers, photos, voice, locations, documents: politely ask for text."""
    message = update.effective_message
    user = update.effective_user
    if message is None or user is None:
        return
    await deliver(context, Incoming.other(user.id, message.chat_id))


async def on_press(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A button press; every callback query is answered, whatever its data."""
    query = update.callback_query
    if query is None:
        return
    # Telegram refuses to answer a query older than a few seconds (a press made while the bot
    # was down); the press itself must still count.
    with contextlib.suppress(BadRequest):
        await query.answer()
    message = query.message if isinstance(query.message, Message) else None
    chat_id = message.chat_id if message is not None else query.from_user.id
    pressed = message.message_id if message is not None else None
    await deliver(context, Incoming.press(query.from_user.id, chat_id, query.data or ""), pressed)


async def on_timer(context: ContextTypes.DEFAULT_TYPE) -> None:
    """A session timer fired: feed its event back to the conversation."""
    job = context.job
    if job is None or job.user_id is None or job.chat_id is None:
        return
    data, pressed = job.data if isinstance(job.data, tuple) else (job.data, None)
    await deliver(context, Incoming.press(job.user_id, job.chat_id, str(data)), pressed)


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log the error first, then tell the user something went wrong; the bot keeps running."""
    logger.error("error while handling an update", exc_info=context.error)
    if isinstance(update, Update) and update.effective_chat is not None:
        conversation: Conversation = context.bot_data[CONVERSATION]
        with contextlib.suppress(Forbidden):
            await context.bot.send_message(
                update.effective_chat.id, conversation.msg("something_went_wrong")
            )


async def post_init(application: Application) -> None:
    """Register the command menu and start the reminder tick."""
    conversation: Conversation = application.bot_data[CONVERSATION]
    commands = [BotCommand(name, conversation.msg(f"cmd_{name}")) for name in COMMANDS]
    await application.bot.set_my_commands(commands)
    from backchain.bot.adapters.telegram.reminders import start_reminder_tick

    start_reminder_tick(application)


async def post_shutdown(application: Application) -> None:
    services: Services = application.bot_data[SERVICES]
    services.close()
    logger.info("database closed")


def build_application(
    settings: Settings, services: Services | None = None, request: BaseRequest | None = None
) -> Application:
    """Assemble services, handlers, jobs and the error handler.

    `request` replaces the HTTP layer (tests pass an offline one).
    """
    assert settings.token, "build_application needs a token"
    services = services or build_services(
        settings.db_path,
        settings.content_dir,
        clock=file_clock(settings.clock_file) if settings.clock_file else utc_now,
        files_dir=settings.files_dir,
    )
    builder = (
        ApplicationBuilder()
        .token(settings.token)
        .rate_limiter(AIORateLimiter(max_retries=2))
        .post_init(post_init)
        .post_shutdown(post_shutdown)
    )
    if request is not None:
        builder = builder.request(request).get_updates_request(request)
    if settings.api_url:
        base = settings.api_url.rstrip("/")
        builder = builder.base_url(base).base_file_url(base.removesuffix("/bot") + "/file/bot")
    application = builder.build()
    application.bot_data[SERVICES] = services
    application.bot_data[CONVERSATION] = Conversation(services)
    application.bot_data[SETTINGS] = settings
    # Order matters: text (commands included) first, button presses, then everything else.
    application.add_handler(MessageHandler(filters.UpdateType.MESSAGE & filters.TEXT, on_message))
    application.add_handler(CallbackQueryHandler(on_press))
    application.add_handler(MessageHandler(filters.UpdateType.MESSAGE & ~filters.TEXT, on_other))
    application.add_error_handler(on_error)
    return application


def run_telegram(settings: Settings) -> int:
    """Run until SIGINT/SIGTERM: long polling, or a webhook when a URL is configured."""
    assert settings.token
    logging.basicConfig(
        format="%(asctime)s %(levelname)s %(name)s: %(message)s", level=logging.INFO
    )
    install_token_redaction(settings.token)
    # httpx logs every request URL, and Bot API URLs contain the token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    application = build_application(settings)
    if settings.webhook_url:
        secret = settings.webhook_secret or secrets.token_urlsafe(32)
        application.run_webhook(
            listen=settings.listen,
            port=settings.port,
            url_path=urlparse(settings.webhook_url).path.lstrip("/"),
            webhook_url=settings.webhook_url,
            secret_token=secret,
            allowed_updates=Update.ALL_TYPES,
        )
    else:
        application.run_polling(allowed_updates=Update.ALL_TYPES)
    return 0
