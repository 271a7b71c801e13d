"""Build the Telegram Application: handlers, rate limiter, command menus, services."""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime
from typing import Any

from telegram import BotCommand, Update
from telegram.error import TelegramError
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    ChatMemberHandler,
    ContextTypes,
    ExtBot,
    MessageHandler,
    filters,
)
from telegram.request import HTTPXRequest

from bot import handlers
from bot.checkins import on_check_in_pass
from bot.config import Settings
from bot.ordering import PerChatOrder
from bot.retention import clean_up
from bot.services import Services
from bot.words import words

logger = logging.getLogger(__name__)

TOKEN_SHAPE = re.compile(r"^\d{3,}:[A-Za-z0-9_-]{5,}$")
MENU = (
    "flows", "resources", "plan", "checkin", "mood", "stop", "settings", "privacy", "export",
    "forget", "hide", "start",
)  # fmt: skip
CLEAN_UP_SECONDS = 3600
CONCURRENT_UPDATES = 32  # different people at once; each person's updates stay in order


class TolerantBot(ExtBot[Any]):
    """A Bot whose long polling survives one update it cannot read.

    python-telegram-bot reads a getUpdates batch as a whole: one update it cannot parse makes
    the batch fail, unconfirmed, again and again, and nobody is answered any more. This bot
    reads such a batch one update at a time and stands an empty update (its id only) in for
    the unreadable one, so the batch is confirmed and everyone else is answered.
    """

    async def get_updates(self, *args: Any, **kwargs: Any) -> tuple[Update, ...]:
        try:
            return await super().get_updates(*args, **kwargs)
        except TelegramError:
            raise
        except Exception as error:  # noqa: BLE001 - a parse error of some update in the batch
            logger.error(
                "an update could not be read (%s); reading one by one", type(error).__name__
            )
        data = {name: kwargs.get(name) for name in ("offset", "limit", "allowed_updates")}
        raw = await self._post("getUpdates", {**data, "timeout": 0})
        updates: list[Update] = []
        for item in raw if isinstance(raw, list) else []:
            try:
                update = Update.de_json(item, self)
            except Exception:  # noqa: BLE001 - the one that failed: keep its id, not its content
                update_id = item.get("update_id") if isinstance(item, dict) else None
                if not isinstance(update_id, int):
                    continue
                logger.error("update %d could not be read and was skipped", update_id)
                update = Update(update_id)
            self.insert_callback_data(update)
            updates.append(update)
        return tuple(updates)


class _WithheldUpdates(logging.Filter):
    """Keep the content of unreadable updates out of the log (it holds people's messages)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str) and record.msg.startswith("Error while parsing updates"):
            record.msg = "Error while parsing updates (content withheld)"
            record.args = ()
            record.exc_info = None
        return True


WITHHELD = _WithheldUpdates()


class BadToken(ValueError):
    """A missing or malformed bot token; the message says which, never the token."""


def check_token(token: str | None) -> str:
    if not token:
        raise BadToken("TELEGRAM_BOT_TOKEN is not set (get one from @BotFather)")
    if not TOKEN_SHAPE.match(token.strip()):
        raise BadToken("TELEGRAM_BOT_TOKEN is malformed (expected digits, a colon, then letters)")
    return token.strip()


def build_application(settings: Settings) -> Application:  # type: ignore[type-arg]
    """Build the Application for these settings; services start in post_init."""
    token = check_token(settings.telegram_bot_token)

    async def post_init(application: Application) -> None:  # type: ignore[type-arg]
        services = await Services.start(settings)
        application.bot_data["services"] = services
        await register_commands(application)
        if application.job_queue is not None:
            application.job_queue.run_repeating(
                _clean_up, interval=CLEAN_UP_SECONDS, first=60, name="retention"
            )
            if settings.checkin_pass_seconds > 0:
                application.job_queue.run_repeating(
                    on_check_in_pass,
                    interval=settings.checkin_pass_seconds,
                    first=settings.checkin_pass_seconds,
                    name="check-ins",
                )

    async def post_shutdown(application: Application) -> None:  # type: ignore[type-arg]
        services = application.bot_data.get("services")
        if isinstance(services, Services):
            await services.close()

    for name in ("telegram.Bot", "telegram.ext.ExtBot"):
        logging.getLogger(name).addFilter(WITHHELD)  # before any update can fail to parse
    limiter = None
    if settings.send_rate_limit > 0:
        # Telegram allows about 30 messages per second per bot overall.
        limiter = AIORateLimiter(overall_max_rate=settings.send_rate_limit, max_retries=3)
    bot = TolerantBot(
        token,
        base_url=settings.telegram_base_url,
        request=HTTPXRequest(connection_pool_size=CONCURRENT_UPDATES * 2),
        get_updates_request=HTTPXRequest(),
        rate_limiter=limiter,
    )
    application = (
        ApplicationBuilder()
        .bot(bot)
        .post_init(post_init)
        .post_shutdown(post_shutdown)
        .concurrent_updates(PerChatOrder(CONCURRENT_UPDATES))
        .build()
    )
    add_handlers(application)
    return application


async def _clean_up(context: ContextTypes.DEFAULT_TYPE) -> None:
    services = context.application.bot_data["services"]
    await clean_up(services.sessions, services.settings, datetime.now(UTC))


def add_handlers(application: Application) -> None:  # type: ignore[type-arg]
    private = filters.ChatType.PRIVATE
    new = filters.UpdateType.MESSAGE
    application.add_handler(
        ChatMemberHandler(handlers.on_membership, ChatMemberHandler.MY_CHAT_MEMBER)
    )
    application.add_handler(MessageHandler(filters.ChatType.GROUPS, handlers.on_group_message))
    application.add_handler(MessageHandler(private & new & filters.COMMAND, handlers.on_command))
    application.add_handler(MessageHandler(private & new & filters.TEXT, handlers.on_text))
    application.add_handler(
        MessageHandler(private & filters.UpdateType.EDITED_MESSAGE, handlers.on_edited)
    )
    application.add_handler(MessageHandler(private & new, handlers.on_non_text))
    application.add_handler(CallbackQueryHandler(handlers.on_press))
    application.add_error_handler(handlers.on_error)


async def register_commands(application: Application) -> None:  # type: ignore[type-arg]
    """Register the command menu in every language the bot speaks (English as the default)."""
    book = words()
    for language in book.languages:
        commands = [BotCommand(name, book.say(language, f"command_{name}")) for name in MENU]
        code = None if language == "en" else language
        await application.bot.set_my_commands(commands, language_code=code)


def configure_logging(level: str) -> None:
    """Log at the chosen level, but never let libraries log request bodies (they hold text)."""
    logging.basicConfig(
        level=getattr(logging, level, logging.INFO),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # httpx and python-telegram-bot print request and response bodies at DEBUG: message text.
    for name in ("httpx", "httpcore", "hpack", "aiosqlite", "asyncio"):
        logging.getLogger(name).setLevel(logging.WARNING)
    for name in ("telegram", "apscheduler"):
        logging.getLogger(name).setLevel(max(logging.INFO, logging.getLogger().level))


def run(settings: Settings) -> None:
    """Run the bot with long polling (or a webhook when WEBHOOK_URL is set) until stopped."""
    configure_logging(settings.log_level)
    application = build_application(settings)
    if settings.webhook_url:
        application.run_webhook(
            listen=settings.webhook_listen,
            port=settings.webhook_port,
            webhook_url=settings.webhook_url,
            secret_token=settings.webhook_secret,
            allowed_updates=Update.ALL_TYPES,
        )
    else:
        application.run_polling(allowed_updates=Update.ALL_TYPES)
