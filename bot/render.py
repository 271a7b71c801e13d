"""Draw plain outgoing messages in Telegram: keyboards, length limits, retries."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, LinkPreviewOptions
from telegram import Message as TelegramMessage
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut

from bot.conversation import Message

logger = logging.getLogger(__name__)

MAX_TEXT = 4096  # Telegram's limit per message, in characters
MAX_CALLBACK_DATA = 64  # bytes
MAX_CAPTION = 1024
RETRY_DEADLINE = 120.0  # seconds a reply keeps being retried through a Bot API outage
MAX_BACKOFF = 15.0
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)
T = TypeVar("T")


def keyboard(message: Message) -> InlineKeyboardMarkup | None:
    """Return the inline keyboard for a message; buttons with oversized data are left out."""
    rows = [
        [
            InlineKeyboardButton(button.label[:64], callback_data=button.data)
            for button in row
            if 0 < len(button.data.encode()) <= MAX_CALLBACK_DATA
        ]
        for row in message.buttons
    ]
    rows = [row for row in rows if row]
    return InlineKeyboardMarkup(rows) if rows else None


def split_text(text: str, limit: int = MAX_TEXT) -> list[str]:
    """Split a text into parts of at most `limit` characters, at line breaks where possible."""
    text = text.strip() or "…"
    parts: list[str] = []
    while len(text) > limit:
        cut = text.rfind("\n", 0, limit)
        if cut < limit // 2:
            cut = text.rfind(" ", 0, limit)
        if cut < limit // 2:
            cut = limit
        parts.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    parts.append(text)
    return parts


async def retrying(
    action: Callable[[], Awaitable[T]], what: str, deadline: float = RETRY_DEADLINE
) -> T:
    """Run a Bot API call, waiting out flood limits and retrying network errors with backoff.

    A permanent refusal (400 Bad Request, 403 Forbidden) is raised at once. Network errors and
    5xx answers are retried with capped backoff until `deadline` seconds have passed, so a reply
    in hand when an outage starts (a crisis reply above all) still goes out when it ends.
    """
    loop = asyncio.get_running_loop()
    give_up = loop.time() + deadline
    delay = 0.5
    attempt = 0
    while True:
        attempt += 1
        try:
            return await action()
        except RetryAfter as error:
            wait = error.retry_after
            seconds = wait if isinstance(wait, int | float) else wait.total_seconds()
            logger.warning("flood limit on %s: waiting %.1f s", what, seconds)
            await asyncio.sleep(seconds)
        except (BadRequest, Forbidden):
            raise  # BadRequest is a NetworkError in python-telegram-bot, but retrying won't help
        except (TimedOut, NetworkError) as error:
            if loop.time() + delay > give_up:
                raise
            logger.warning("%s failed (%s), retry %d", what, type(error).__name__, attempt)
            await asyncio.sleep(delay)
            delay = min(delay * 2, MAX_BACKOFF)


async def send(bot: Bot, chat_id: int, messages: Sequence[Message]) -> list[TelegramMessage]:
    """Send messages in order; a long text is split, its keyboard goes under the last part."""
    sent: list[TelegramMessage] = []
    for message in messages:
        if message.photo is not None:
            sent.append(await _send_photo(bot, chat_id, message))
            continue
        if message.document is not None:
            sent.append(await _send_document(bot, chat_id, message, *message.document))
            continue
        parts = split_text(message.text)
        for index, part in enumerate(parts):
            markup = keyboard(message) if index == len(parts) - 1 else None
            sent.append(await _send_text(bot, chat_id, part, markup, message))
    return sent


async def _send_photo(bot: Bot, chat_id: int, message: Message) -> TelegramMessage:
    caption = split_text(message.text, MAX_CAPTION)[0]
    return await retrying(
        lambda: bot.send_photo(
            chat_id,
            photo=message.photo or b"",
            caption=caption,
            reply_markup=keyboard(message),
            protect_content=message.protect,
            disable_notification=message.silent,
        ),
        "sendPhoto",
    )


async def _send_text(
    bot: Bot, chat_id: int, text: str, markup: InlineKeyboardMarkup | None, message: Message
) -> TelegramMessage:
    return await retrying(
        lambda: bot.send_message(
            chat_id,
            text,
            reply_markup=markup,
            protect_content=message.protect,
            disable_notification=message.silent,
            link_preview_options=NO_PREVIEW,
        ),
        "sendMessage",
    )


async def _send_document(
    bot: Bot, chat_id: int, message: Message, filename: str, contents: bytes
) -> TelegramMessage:
    return await retrying(
        lambda: bot.send_document(
            chat_id,
            document=contents,
            filename=filename,
            caption=split_text(message.text, MAX_CAPTION)[0],
            protect_content=message.protect,
            disable_notification=message.silent,
        ),
        "sendDocument",
    )
