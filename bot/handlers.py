"""Telegram handlers: Update → plain input → the conversation service → rendered replies."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import cast

from sqlalchemy.exc import SQLAlchemyError
from telegram import Chat, Update
from telegram.constants import ChatMemberStatus, ChatType
from telegram.error import BadRequest, Forbidden, TelegramError
from telegram.ext import ContextTypes

from bot.conversation import Conversations, Message, Outcome, Who
from bot.delivery import Delivered
from bot.render import retrying, send
from bot.retention import DELETABLE_FOR
from bot.services import Services
from bot.words import words
from safety import screen

logger = logging.getLogger(__name__)

Context = ContextTypes.DEFAULT_TYPE
DELETE_BATCH = 100  # deleteMessages takes at most 100 ids


def services_of(context: Context) -> Services:
    """Return the services attached to the application in post_init."""
    return cast(Services, context.application.bot_data["services"])


def _who(update: Update) -> Who:
    user = update.effective_user
    assert user is not None
    return Who(user.id, user.language_code, update.update_id)


def _private(update: Update) -> bool:
    """Return whether this is a person's own private chat with the bot.

    In Telegram a private chat's id is the person's user id; an update that says otherwise
    (a forged webhook call) must not make the bot write into someone else's chat.
    """
    chat = update.effective_chat
    user = update.effective_user
    return (
        chat is not None
        and user is not None
        and chat.type == ChatType.PRIVATE
        and chat.id == user.id
    )


def _typed(text: str | None) -> str:
    """Return the text with lone surrogates replaced by U+FFFD, as bot.crypto stores it.

    Half a UTF-16 pair can arrive in an update but can be neither stored nor sent back to
    Telegram, and a flow may read an answer back in its next step.
    """
    if not text:
        return ""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return text


async def _answer(update: Update, context: Context, outcome: Outcome) -> None:
    """Send the outcome, then record that it went out and the chat's new message ids."""
    chat = update.effective_chat
    if chat is None or update.effective_user is None:
        return
    sent = await send(context.bot, chat.id, outcome.messages) if outcome.messages else []
    incoming = update.effective_message
    ids = [message.message_id for message in sent]
    if incoming is not None and update.callback_query is None:
        ids.insert(0, incoming.message_id)
    services_of(context).deliveries.add(
        Delivered(update.effective_user.id, chat.id, update.update_id, tuple(ids))
    )


def _flooded(update: Update, context: Context, text: str) -> bool:
    """Return True when this person is over their limit and the message is not a risk."""
    user = update.effective_user
    if user is None:
        return False
    gate = services_of(context).flood
    if gate.allow(user.id):
        return False
    # Crisis and concern messages are never dropped, however many came before.
    return not screen(text, None).needs_response


async def on_command(update: Update, context: Context) -> None:
    """Run a slash command; unknown ones get the gentle idle answer."""
    message = update.effective_message
    if message is None or not message.text or not _private(update):
        return
    word, _, argument = _typed(message.text).partition(" ")
    name = word[1:].split("@")[0].lower()
    if name == "hide":
        await hide(update, context)
        return
    if _flooded(update, context, ""):
        await _calm(update, context)
        return
    conversations = services_of(context).conversations
    await _answer(update, context, await conversations.command(_who(update), name, argument))


async def on_text(update: Update, context: Context) -> None:
    """Screen the message first (inside the service), then let the flow engine answer."""
    message = update.effective_message
    if message is None or not _private(update):
        return
    text = _typed(message.text or message.caption)
    if _flooded(update, context, text):
        await _calm(update, context)
        return
    conversations: Conversations = services_of(context).conversations
    await _answer(update, context, await conversations.text(_who(update), text))


async def _calm(update: Update, context: Context) -> None:
    """Answer a burst once, calmly; the rest of the burst is read but not answered."""
    user = update.effective_user
    chat = update.effective_chat
    if user is None or chat is None or not services_of(context).flood.first_refusal(user.id):
        return
    language = words().language(user.language_code)
    await send(context.bot, chat.id, [Message(words().say(language, "flood"))])


async def hide(update: Update, context: Context) -> None:
    """Quick exit: delete what the bot may still delete here, then leave one neutral message."""
    chat = update.effective_chat
    message = update.effective_message
    if chat is None or message is None or update.effective_user is None:
        return
    services = services_of(context)
    who = _who(update)
    since = datetime.now(UTC) - DELETABLE_FOR
    await services.deliveries.flush()  # the newest ids may still be waiting to be written
    try:
        known = await services.conversations.recent_message_ids(who, since)
    except (SQLAlchemyError, OSError) as error:
        logger.warning("hide without the stored ids (%s)", type(error).__name__)
        known = []
    ids = sorted({message_id for chat_id, message_id in known if chat_id == chat.id}
                 | {message.message_id})  # fmt: skip
    for start in range(0, len(ids), DELETE_BATCH):
        batch = ids[start : start + DELETE_BATCH]
        try:
            await retrying(lambda batch=batch: context.bot.delete_messages(chat.id, batch),
                           "deleteMessages")  # fmt: skip
        except BadRequest:  # some were already gone or too old: delete the rest one by one
            for message_id in batch:
                try:
                    await context.bot.delete_message(chat.id, message_id)
                except TelegramError:
                    pass
    logger.info("hide deleted up to %d messages", len(ids))
    neutral = await send(context.bot, chat.id, [Message(services.settings.hide_message)])
    try:
        await services.conversations.forget_message_ids(who)
        await services.quiet_after_hide(who.telegram_id)
        services.deliveries.add(
            Delivered(who.telegram_id, chat.id, None, tuple(m.message_id for m in neutral))
        )
    except (SQLAlchemyError, OSError) as error:
        logger.warning("could not update ids after hide (%s)", type(error).__name__)


async def on_edited(update: Update, context: Context) -> None:
    """Screen an edited message too; only a safety reply is sent, the flow is not replayed."""
    message = update.edited_message
    if message is None or not _private(update):
        return
    outcome = await services_of(context).conversations.screen_only(
        _who(update), _typed(message.text or message.caption)
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
