"""The person's side of the emulator: Telegram users and groups that talk to the bot."""

from __future__ import annotations

import base64
import itertools
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from emulator.models import ChatMessage
from emulator.state import Chat, Record, chat_keyboard_labels, image_size

if TYPE_CHECKING:
    from emulator.server import BotApiEmulator

TINY_PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)
_TINY_OGG = b"OggS\x00\x02" + bytes(20)
_TINY_WEBP = b"RIFF\x1a\x00\x00\x00WEBPVP8 " + bytes(14)


class ChatView:
    """One chat with the bot as the people in it see it."""

    def __init__(self, api: BotApiEmulator, chat: Chat) -> None:
        self._api = api
        self.chat = chat

    @property
    def chat_id(self) -> int:
        """Return the chat's id."""
        return self.chat.id

    def bot_messages(self) -> list[ChatMessage]:
        """Return every message the bot sent here, in order, as it was sent."""
        self._require_bodies()
        return list(self.chat.inbox)

    async def next_bot_message(self, timeout: float = 5.0) -> ChatMessage:
        """Wait for the bot's next message here that this view has not returned yet."""
        return (await self.wait_for_messages(1, timeout))[0]

    async def wait_for_messages(self, count: int, timeout: float = 5.0) -> list[ChatMessage]:
        """Wait for the bot's next count messages here, in the order it sent them."""
        self._require_bodies()
        chat = self.chat
        deadline = time.monotonic() + timeout
        while len(chat.inbox) - chat.read < count:
            if not await chat.waiter().wait(deadline):
                raise TimeoutError(self._timeout_report(count, timeout))
        messages = chat.inbox[chat.read : chat.read + count]
        chat.read += count
        return messages

    async def expect_silence(self, within: float = 0.5) -> None:
        """Fail if the bot sends anything new here within the given seconds."""
        self._require_bodies()
        chat = self.chat
        deadline = time.monotonic() + within
        while len(chat.inbox) == chat.read and await chat.waiter().wait(deadline):
            pass
        unread = chat.inbox[chat.read :]
        if unread:
            kinds = ", ".join(f"#{m.message_id} ({m.kind})" for m in unread)
            raise AssertionError(f"the bot sent {len(unread)} unexpected message(s): {kinds}")

    async def wait_until(self, condition: Callable[[], bool], timeout: float = 5.0) -> None:
        """Wait until condition() holds, re-checking whenever the bot changes this chat."""
        deadline = time.monotonic() + timeout
        while not condition():
            if not await self.chat.waiter().wait(deadline):
                raise TimeoutError(f"chat {self.chat.id}: condition still false after {timeout}s")

    async def wait_for_edit(self, message: ChatMessage, timeout: float = 5.0) -> ChatMessage:
        """Wait until the bot edits a message again; return it as it now looks."""

        def edited() -> bool:
            current = self.current(message)
            return current is not None and current.edit_date != message.edit_date

        await self.wait_until(edited, timeout)
        current = self.current(message)
        assert current is not None
        return current

    def skip_pending(self) -> int:
        """Mark every message the bot sent so far as read; return how many were skipped."""
        skipped = len(self.chat.inbox) - self.chat.read
        self.chat.read = len(self.chat.inbox)
        return skipped

    def visible_messages(self) -> list[ChatMessage]:
        """Return the chat as it looks now, after the bot's edits and deletions."""
        return [record.snapshot() for record in self.chat.messages.values()]

    def current(self, message: ChatMessage | int) -> ChatMessage | None:
        """Return a message as it looks now, or None once it was deleted."""
        record = self.chat.messages.get(_message_id(message))
        return record.snapshot() if record else None

    def reply_keyboard(self) -> tuple[tuple[str, ...], ...] | None:
        """Return the reply keyboard the person sees under the input field, if any."""
        markup = self.chat.reply_keyboard
        if markup is None:
            return None
        return tuple(
            tuple(str(b.get("text", "")) if isinstance(b, Mapping) else str(b) for b in row)
            for row in markup.get("keyboard", [])
        )

    @property
    def last_chat_action(self) -> str | None:
        """Return the last chat action the bot showed here ("typing", ...)."""
        return self.chat.last_action

    @property
    def sent_count(self) -> int:
        """Return how many messages the bot sent here."""
        return self._api.state.sent_per_chat[self.chat.id]

    def _require_bodies(self) -> None:
        """Refuse to read messages from an emulator that keeps only counts."""
        if not self._api.retain_bodies:
            raise RuntimeError("this emulator was created with retain_bodies=False")

    def _timeout_report(self, count: int, timeout: float) -> str:
        """Explain a wait that timed out, with the calls Telegram refused in this chat."""
        received = len(self.chat.inbox) - self.chat.read
        report = (
            f"chat {self.chat.id}: expected {count} new message(s) from the bot within "
            f"{timeout}s, got {received}"
        )
        failed = self._api.failed_calls(self.chat.id)[-5:]
        if failed:
            report += "; refused calls: " + "; ".join(
                f"{call.method} {call.status} {call.description}" for call in failed
            )
        return report


class GroupChat(ChatView):
    """A group or supergroup that people can add the bot to."""

    @property
    def title(self) -> str:
        """Return the group's title."""
        return str(self.chat.info["title"])

    @property
    def bot_status(self) -> str:
        """Return the bot's membership: member, administrator, left or kicked."""
        return self.chat.bot_status


class EmulatedUser(ChatView):
    """A Telegram user in a private chat with the bot, who can also write in groups."""

    def __init__(self, api: BotApiEmulator, chat: Chat, info: dict[str, Any]) -> None:
        super().__init__(api, chat)
        self.info = info

    @property
    def id(self) -> int:
        """Return the user's id (also their private chat's id)."""
        return int(self.info["id"])

    @property
    def first_name(self) -> str:
        """Return the user's first name."""
        return str(self.info["first_name"])

    @property
    def language_code(self) -> str | None:
        """Return the language Telegram reports for the user."""
        return self.info.get("language_code")

    async def send(
        self,
        text: str,
        *,
        reply_to: ChatMessage | int | None = None,
        chat: GroupChat | None = None,
    ) -> ChatMessage:
        """Write a text message; /commands in it get bot_command entities as in Telegram."""
        content = self._api.state.text_content(text)
        return self._post(content, chat, reply_to)

    async def send_command(
        self, command: str, args: str = "", *, chat: GroupChat | None = None
    ) -> ChatMessage:
        """Send a command such as "/start", optionally with arguments."""
        text = command if command.startswith("/") else f"/{command}"
        return await self.send(f"{text} {args}" if args else text, chat=chat)

    async def send_photo(
        self,
        data: bytes = TINY_PNG,
        *,
        caption: str | None = None,
        chat: GroupChat | None = None,
    ) -> ChatMessage:
        """Send a photo (a 1x1 PNG unless data is given)."""
        uploaded = self._api.state.person_file("photo", data, "photo.png", "image/png")
        width, height = image_size(data)
        size = {
            "file_id": uploaded.file_id,
            "file_unique_id": uploaded.file_unique_id,
            "width": width,
            "height": height,
            "file_size": uploaded.size,
        }
        content: dict[str, Any] = {"photo": [size]}
        if caption:
            content["caption"] = caption
        return self._post(content, chat)

    async def send_document(
        self,
        data: bytes = b"notes\n",
        *,
        filename: str = "notes.txt",
        mime_type: str = "text/plain",
        caption: str | None = None,
        chat: GroupChat | None = None,
    ) -> ChatMessage:
        """Send a file."""
        uploaded = self._api.state.person_file("document", data, filename, mime_type)
        document = {
            "file_id": uploaded.file_id,
            "file_unique_id": uploaded.file_unique_id,
            "file_name": filename,
            "mime_type": mime_type,
            "file_size": uploaded.size,
        }
        content: dict[str, Any] = {"document": document}
        if caption:
            content["caption"] = caption
        return self._post(content, chat)

    async def send_sticker(
        self, emoji: str = "🙂", *, chat: GroupChat | None = None
    ) -> ChatMessage:
        """Send a sticker."""
        uploaded = self._api.state.person_file("sticker", _TINY_WEBP, "sticker.webp", "image/webp")
        sticker = {
            "file_id": uploaded.file_id,
            "file_unique_id": uploaded.file_unique_id,
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": emoji,
        }
        return self._post({"sticker": sticker}, chat)

    async def send_voice(
        self, duration: int = 2, *, data: bytes = _TINY_OGG, chat: GroupChat | None = None
    ) -> ChatMessage:
        """Send a voice message."""
        uploaded = self._api.state.person_file("voice", data, "voice.ogg", "audio/ogg")
        voice = {
            "file_id": uploaded.file_id,
            "file_unique_id": uploaded.file_unique_id,
            "duration": duration,
            "mime_type": "audio/ogg",
            "file_size": uploaded.size,
        }
        return self._post({"voice": voice}, chat)

    async def send_content(
        self, content: Mapping[str, Any], *, chat: GroupChat | None = None
    ) -> ChatMessage:
        """Send a message with any content fields, e.g. {"location": {...}}."""
        return self._post(dict(content), chat)

    async def edit(self, message: ChatMessage | int, text: str) -> ChatMessage:
        """Edit one of the user's own text messages (an edited_message update)."""
        chat = self.chat if isinstance(message, int) else self._chat_of(message)
        return self._api.state.edit_person_message(chat, _message_id(message), text)

    async def press(
        self, message: ChatMessage | int, button: str, *, chat: GroupChat | None = None
    ) -> str:
        """Press an inline button by label or callback_data; return the callback query id."""
        target, record = self._find(message, chat)
        markup = record.payload.get("reply_markup") or {}
        rows = markup.get("inline_keyboard") or []
        labels = []
        for candidate in itertools.chain.from_iterable(rows):
            labels.append(candidate.get("text"))
            if button in (candidate.get("text"), candidate.get("callback_data")):
                if "callback_data" not in candidate:
                    raise ValueError(f"button {button!r} does not send callback data")
                data = str(candidate["callback_data"])
                return self._api.state.callback_query(target, self.info, record, data)
        raise LookupError(
            f"no button {button!r} on message {record.payload['message_id']}; it has {labels}"
        )

    async def send_callback(
        self, message: ChatMessage | int, data: str, *, chat: GroupChat | None = None
    ) -> str:
        """Send a callback query with any data (stale or forged buttons); return its id."""
        target, record = self._find(message, chat)
        return self._api.state.callback_query(target, self.info, record, data)

    async def choose(self, label: str) -> ChatMessage:
        """Tap a reply-keyboard button, which sends its label as a text message."""
        markup = self.chat.reply_keyboard
        if label not in set(chat_keyboard_labels(markup)):
            raise LookupError(f"no reply keyboard button {label!r}")
        if markup is not None and markup.get("one_time_keyboard"):
            self.chat.reply_keyboard = None
        return await self.send(label)

    def block_bot(self) -> None:
        """Block the bot: it gets a my_chat_member update and 403 on every later send."""
        if not self.chat.blocked:
            self.chat.blocked = True
            self._api.state.member_update(self.chat, self.info, "member", "kicked")

    def unblock_bot(self) -> None:
        """Unblock (restart) the bot."""
        if self.chat.blocked:
            self.chat.blocked = False
            self._api.state.member_update(self.chat, self.info, "kicked", "member")

    def deactivate(self) -> None:
        """Delete the account: later sends answer 403 "user is deactivated"."""
        self.chat.deactivated = True

    def _post(
        self,
        content: dict[str, Any],
        chat: GroupChat | None,
        reply_to: ChatMessage | int | None = None,
    ) -> ChatMessage:
        """Store the message in the chat and queue its update."""
        target = chat.chat if chat is not None else self.chat
        if target.blocked:
            raise RuntimeError(f"user {self.id} blocked the bot; unblock_bot() first")
        reply_id = None if reply_to is None else _message_id(reply_to)
        return self._api.state.person_message(target, self.info, content, reply_to=reply_id)

    def _chat_of(self, message: ChatMessage) -> Chat:
        """Return the chat a message belongs to."""
        chat = self._api.state.chats.get(message.chat_id)
        if chat is None:
            raise LookupError(f"unknown chat {message.chat_id}")
        return chat

    def _find(self, message: ChatMessage | int, chat: GroupChat | None) -> tuple[Chat, Record]:
        """Return a message still in the chat, as the person could tap it."""
        if chat is not None:
            target = chat.chat
        elif isinstance(message, int):
            target = self.chat
        else:
            target = self._chat_of(message)
        record = target.messages.get(_message_id(message))
        if record is None:
            raise LookupError(f"message {_message_id(message)} is no longer in chat {target.id}")
        return target, record


def _message_id(message: ChatMessage | int) -> int:
    """Accept a message or its id."""
    return message if isinstance(message, int) else message.message_id
