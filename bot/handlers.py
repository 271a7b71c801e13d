"""Telegram handlers: Update → plain input → the conversation service → rendered replies."""

from __future__ import annotations

import logging
from typing import cast

from telegram import Chat, Update
from telegram.constants import ChatMemberStatus, ChatType
from telegram.error import BadRequest, Forbidden, TelegramError
from telegram.ext import ContextTypes

from bot.conversation import Conversations, Message, Outcome, Who
from bot.render import retrying, send
from bot.services import Services
from bot.words import words

logger = logging.getLogger(__name__)

Context = ContextTypes.DEFAULT_TYPE


def services_of(context: Context) -> Services:
    """Return the services attached to the application in post_init."""
    return cast(Services, context.application.bot_data["services"])


def _who(update: Update) -> Who:
    user = update.effective_user
    assert user is not None
    return Who(user.id, user.language_code)


def _private(update: Update) -> bool:
    chat = update.effective_chat
    return chat is not None and chat.type == ChatType.PRIVATE


async def _answer(update: Update, context: Context, outcome: Outcome) -> None:
    chat = update.effective_chat
    if chat is not None and outcome.messages:
        await send(context.bot, chat.id, outcome.messages)


async def on_command(update: Update, context: Context) -> None:
    """Run a slash command; unknown ones get the gentle idle answer."""
    message = update.effective_message
    if message is None or not message.text or not _private(update):
        return
    word, _, argument = message.text.partition(" ")
    name = word[1:].split("@")[0].lower()
    conversations = services_of(context).conversations
    await _answer(update, context, await conversations.command(_who(update), name, argument))


async def on_text(update: Update, context: Context) -> None:
    """Screen the message first (inside the service), then let the flow engine answer."""
    message = update.effective_message
    if message is None or not _private(update):
        return
    text = message.text or message.caption or ""
    conversations: Conversations = services_of(context).conversations
    await _answer(update, context, await conversations.text(_who(update), text))


async def on_edited(update: Update, context: Context) -> None:
    """Screen an edited message too; only a safety reply is sent, the flow is not replayed."""
    message = update.edited_message
    if message is None or not _private(update):
        return
    outcome = await services_of(context).conversations.screen_only(
        _who(update), message.text or message.caption or ""
    )
    await _answer(update, context, outcome)


async def on_non_text(update: Update, context: Context) -> None:
    """Stickers, photos, voice, files: say kindly what the bot understands; screen captions."""
    message = update.effective_message
    if message is None or not _private(update):
        return
    if message.caption:
        await on_text(update, context)
        return
    language = words().language(
        update.effective_user.language_code if update.effective_user else None
    )
    await send(context.bot, message.chat_id, [Message(words().say(language, "non_text"))])


async def on_press(update: Update, context: Context) -> None:
    """A button press: answer the query, retire the old keyboard, then handle the choice."""
    query = update.callback_query
    if query is None:
        return
    # Answer the callback query first, or the button keeps spinning in the person's app.
    try:
        await query.answer()
    except TelegramError as error:
        logger.info("could not answer a callback query (%s)", type(error).__name__)
    if not _private(update):
        return
    if query.message is not None and getattr(query.message, "reply_markup", None) is not None:
        # Old buttons must not be pressed into a wrong state: take them off the message.
        try:
            await retrying(lambda: query.edit_message_reply_markup(None), "editMessageReplyMarkup")
        except BadRequest:
            pass  # already edited, or too old to edit: harmless
    outcome = await services_of(context).conversations.press(_who(update), query.data or "")
    await _answer(update, context, outcome)


async def on_membership(update: Update, context: Context) -> None:
    """Added to a group: say once that SafePlace works in private chats only, and leave."""
    member = update.my_chat_member
    if member is None:
        return
    chat: Chat = member.chat
    if chat.type == ChatType.PRIVATE:
        if member.new_chat_member.status in (ChatMemberStatus.BANNED, ChatMemberStatus.LEFT):
            logger.info("a person blocked the bot")
        return
    if member.new_chat_member.status in (ChatMemberStatus.MEMBER, ChatMemberStatus.ADMINISTRATOR):
        language = words().language(member.from_user.language_code)
        try:
            await send(context.bot, chat.id, [Message(words().say(language, "group_leave"))])
            await context.bot.leave_chat(chat.id)
        except (Forbidden, BadRequest) as error:
            logger.info("could not leave a group cleanly (%s)", type(error).__name__)


async def on_group_message(update: Update, context: Context) -> None:
    """A message in a group the bot is still in (e.g. it was added before this version): leave."""
    chat = update.effective_chat
    if chat is None or chat.type == ChatType.PRIVATE:
        return
    try:
        await context.bot.leave_chat(chat.id)
    except TelegramError as error:
        logger.info("could not leave a group (%s)", type(error).__name__)


async def on_error(update: object, context: Context) -> None:
    """Log the error (type and place, never text) and give the person a short apology."""
    error = context.error
    logger.error(
        "handler error %s at %s",
        type(error).__name__,
        _where(error),
    )
    if not isinstance(update, Update) or update.effective_chat is None or not _private(update):
        return
    language = words().language(
        update.effective_user.language_code if update.effective_user else None
    )
    try:
        await send(
            context.bot, update.effective_chat.id, [Message(words().say(language, "error"))]
        )
    except TelegramError as send_error:
        logger.error("could not send the apology (%s)", type(send_error).__name__)


def _where(error: BaseException | None) -> str:
    """Return file:line of the innermost frame, which says where without saying what."""
    if error is None or error.__traceback__ is None:
        return "?"
    trace = error.__traceback__
    while trace.tb_next is not None:
        trace = trace.tb_next
    return f"{trace.tb_frame.f_code.co_filename.rsplit('/', 1)[-1]}:{trace.tb_lineno}"
