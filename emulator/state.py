"""The emulated Telegram side of one bot: chats, messages, files, updates and Bot API methods."""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import struct
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from emulator.formatting import checked_text, utf16_length
from emulator.models import (
    ApiError,
    CallbackAnswer,
    ChatMessage,
    RegisteredCommand,
    UploadedFile,
    Webhook,
)

# Telegram leaves these out unless a bot asks for them by name in allowed_updates.
EXCLUDED_BY_DEFAULT = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
# Bots may delete (and so hide) messages for 48 hours after they were sent.
DELETE_WINDOW_SECONDS = 48 * 3600
MAX_CALLBACK_DATA_BYTES = 64
SENDING_METHODS = frozenset(
    {
        "sendmessage",
        "sendphoto",
        "senddocument",
        "sendvoice",
        "sendaudio",
        "sendvideo",
        "sendanimation",
        "sendsticker",
        "sendmediagroup",
        "sendlocation",
        "sendcontact",
        "sendpoll",
        "senddice",
        "copymessage",
        "forwardmessage",
    }
)
CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
_INLINE_BUTTON_ACTIONS = frozenset(
    {
        "callback_data",
        "url",
        "web_app",
        "login_url",
        "switch_inline_query",
        "switch_inline_query_current_chat",
        "switch_inline_query_chosen_chat",
        "copy_text",
        "callback_game",
        "pay",
    }
)
_BOT_COMMAND = re.compile(r"(?<![\w/])/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?")
_COMMAND_NAME = re.compile(r"[a-z0-9_]{1,32}")
_SECRET_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,256}")
_MESSAGE_KINDS = (
    "text",
    "photo",
    "document",
    "sticker",
    "voice",
    "video",
    "audio",
    "animation",
    "location",
    "contact",
    "new_chat_members",
    "left_chat_member",
)
_MEDIA_KINDS = frozenset(_MESSAGE_KINDS[1:10])
_JSON_NAMES = {
    "reply_markup": "reply keyboard markup",
    "entities": "entities",
    "caption_entities": "caption entities",
}
_BOT_TEXT_LIMITS = {"name": 64, "description": 512, "short_description": 120}


@dataclass(frozen=True, slots=True)
class UploadPart:
    """One file part of a multipart request, as the bot sent it."""

    filename: str | None
    content_type: str | None
    data: bytes


class Params:
    """The parameters of one Bot API call, decoded as leniently as Telegram decodes them."""

    __slots__ = ("files", "values")

    def __init__(self, values: Mapping[str, Any], files: Mapping[str, UploadPart]) -> None:
        self.values = values
        self.files = files

    def __contains__(self, name: str) -> bool:
        return self.values.get(name) not in (None, "") or name in self.files

    def text(self, name: str) -> str | None:
        """Return a string parameter, or None when it is absent."""
        value = self.values.get(name)
        if value is None or isinstance(value, str):
            return value
        return json.dumps(value) if isinstance(value, list | dict) else str(value)

    def integer(self, name: str) -> int | None:
        """Return an integer parameter, or None when it is absent."""
        value = self.values.get(name)
        if value is None or value == "":
            return None
        try:
            return int(value)
        except (TypeError, ValueError):
            raise ApiError(400, f"Bad Request: invalid {name} specified") from None

    def number(self, name: str) -> float | None:
        """Return a numeric parameter, or None when it is absent."""
        value = self.values.get(name)
        if value is None or value == "":
            return None
        try:
            return float(value)
        except (TypeError, ValueError):
            raise ApiError(400, f"Bad Request: invalid {name} specified") from None

    def flag(self, name: str) -> bool:
        """Return a boolean parameter; absent means False."""
        value = self.values.get(name)
        if isinstance(value, str):
            return value.strip().lower() in {"true", "1"}
        return bool(value)

    def structure(self, name: str) -> Any:
        """Return a JSON-serialized parameter (keyboards, entities, lists) decoded."""
        value = self.values.get(name)
        if not isinstance(value, str):
            return value
        try:
            return json.loads(value)
        except ValueError:
            what = _JSON_NAMES.get(name, name)
            raise ApiError(400, f"Bad Request: can't parse {what} JSON object") from None

    def chat_ref(self) -> int | str:
        """Return the required chat_id: a number or an @username."""
        value = self.values.get("chat_id")
        if value is None or value == "":
            raise ApiError(400, "Bad Request: chat_id is empty")
        if isinstance(value, str) and value.startswith("@"):
            return value
        try:
            return int(value)
        except (TypeError, ValueError):
            raise ApiError(400, "Bad Request: chat not found") from None

    def upload(self, name: str) -> UploadPart | str | None:
        """Return a file parameter: an uploaded part, or a file_id or URL string."""
        if name in self.files:
            return self.files[name]
        value = self.text(name)
        if value and value.startswith("attach://"):
            return self.files.get(value.removeprefix("attach://"))
        return value or None


class Signal:
    """Wakes the coroutines waiting for something in one chat (or for callback answers)."""

    __slots__ = ("_futures",)

    def __init__(self) -> None:
        self._futures: list[asyncio.Future[None]] = []

    def fire(self) -> None:
        """Wake every waiter."""
        futures, self._futures = self._futures, []
        for future in futures:
            if not future.done():
                future.set_result(None)

    async def wait(self, deadline: float) -> bool:
        """Wait until fired or until the monotonic deadline; say whether it fired."""
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        future = asyncio.get_running_loop().create_future()
        self._futures.append(future)
        try:
            await asyncio.wait_for(future, remaining)
        except TimeoutError:
            return False
        return True


class Record:
    """One message stored in a chat; payload is replaced, never mutated, on edit."""

    __slots__ = ("file", "from_bot", "markup", "parse_mode", "payload", "silent")

    def __init__(
        self,
        payload: dict[str, Any],
        *,
        from_bot: bool,
        silent: bool = False,
        markup: dict[str, Any] | None = None,
        parse_mode: str | None = None,
        file: UploadedFile | None = None,
    ) -> None:
        self.payload = payload
        self.from_bot = from_bot
        self.silent = silent
        self.markup = markup
        self.parse_mode = parse_mode
        self.file = file

    def snapshot(self) -> ChatMessage:
        """Return the frozen view tests see."""
        payload = self.payload
        reply = payload.get("reply_to_message")
        return ChatMessage(
            message_id=payload["message_id"],
            chat_id=payload["chat"]["id"],
            date=payload["date"],
            from_bot=self.from_bot,
            kind=next((kind for kind in _MESSAGE_KINDS if kind in payload), "other"),
            text=payload.get("text"),
            caption=payload.get("caption"),
            parse_mode=self.parse_mode,
            reply_markup=self.markup if self.from_bot else payload.get("reply_markup"),
            protect_content=bool(payload.get("has_protected_content")),
            disable_notification=self.silent,
            reply_to_message_id=reply["message_id"] if reply else None,
            edit_date=payload.get("edit_date"),
            file=self.file,
            raw=payload,
        )


class Chat:
    """One chat the bot is in: its messages, the person's inbox and its reachability."""

    __slots__ = (
        "blocked",
        "bot_status",
        "deactivated",
        "id",
        "inbox",
        "info",
        "last_action",
        "messages",
        "next_message_id",
        "read",
        "reply_keyboard",
        "signal",
    )

    def __init__(self, info: dict[str, Any]) -> None:
        self.id: int = info["id"]
        self.info = info
        self.next_message_id = 1
        self.messages: dict[int, Record] = {}
        self.inbox: list[ChatMessage] = []
        self.read = 0
        self.signal: Signal | None = None
        self.blocked = False
        self.deactivated = False
        self.bot_status = "member"
        self.reply_keyboard: dict[str, Any] | None = None
        self.last_action: str | None = None

    @property
    def private(self) -> bool:
        """Say whether this is a one-to-one chat with a person."""
        return bool(self.info["type"] == "private")

    def allocate_id(self) -> int:
        """Return the next message id in this chat."""
        message_id = self.next_message_id
        self.next_message_id += 1
        return message_id

    def notify(self) -> None:
        """Wake whoever waits for news in this chat."""
        if self.signal is not None:
            self.signal.fire()

    def waiter(self) -> Signal:
        """Return this chat's signal, creating it on first use."""
        if self.signal is None:
            self.signal = Signal()
        return self.signal


_Handler = Callable[["BotApiState", Params], Any]
_METHODS: dict[str, tuple[str, _Handler]] = {}


def _method(name: str) -> Callable[[_Handler], _Handler]:
    """Register a Bot API method under its case-insensitive name."""

    def register(handler: _Handler) -> _Handler:
        _METHODS[name.lower()] = (name, handler)
        return handler

    return register


def canonical_method(key: str) -> str | None:
    """Return the canonical spelling of a method, or None if the emulator does not know it."""
    entry = _METHODS.get(key)
    return entry[0] if entry else None


class BotApiState:
    """Everything Telegram knows about one bot, and the Bot API methods that change it."""

    def __init__(
        self,
        token: str,
        *,
        username: str,
        first_name: str,
        retain_bodies: bool,
        auto_create_chats: bool,
    ) -> None:
        prefix = token.partition(":")[0]
        self.bot_id = int(prefix) if prefix.isdigit() else 1
        self.bot_from = {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": first_name,
            "username": username,
        }
        self.retain_bodies = retain_bodies
        self.auto_create_chats = auto_create_chats
        self.wake: Callable[[], None] = lambda: None
        self.clock_offset = 0.0
        self.chats: dict[int, Chat] = {}
        self.people: dict[int, dict[str, Any]] = {}
        self.sent_per_chat: Counter[int] = Counter()
        self.sent_total = 0
        self.files: dict[str, UploadedFile] = {}
        self.file_paths: dict[str, str] = {}
        self.uploads: list[UploadedFile] = []
        self.updates: deque[dict[str, Any]] = deque()
        self.next_update_id = 1
        self.allowed_updates: frozenset[str] | None = None
        self.dropped_updates = 0
        self.open_queries: set[str] = set()
        self.callback_answers: dict[str, CallbackAnswer] = {}
        self.answer_signal = Signal()
        self.commands: dict[tuple[str, str], tuple[RegisteredCommand, ...]] = {}
        self.bot_texts: dict[tuple[str, str], str] = {}
        self.menu_buttons: dict[int | None, Any] = {}
        self.inline_messages: dict[str, dict[str, Any]] = {}
        self.webhook: Webhook | None = None
        self.webhook_error: tuple[int, str] | None = None
        self._ids = itertools.count(1)

    # -- time, updates -------------------------------------------------------------------------

    def now(self) -> int:
        """Return Telegram's wall clock in whole seconds, shifted by advance_time."""
        return int(time.time() + self.clock_offset)

    def push_update(self, kind: str, body: Any) -> int:
        """Queue an update of one kind unless the bot's allowed_updates exclude it."""
        update_id = self.next_update_id
        self.next_update_id += 1
        allowed = self.allowed_updates
        if (kind in EXCLUDED_BY_DEFAULT) if allowed is None else (kind not in allowed):
            self.dropped_updates += 1
            return update_id
        self.updates.append({"update_id": update_id, kind: body})
        self.wake()
        return update_id

    def push_raw_update(self, update: Mapping[str, Any]) -> int:
        """Queue any update as given (fuzz tests), with a fresh update_id."""
        update_id = self.next_update_id
        self.next_update_id += 1
        self.updates.append({**update, "update_id": update_id})
        self.wake()
        return update_id

    def set_allowed_updates(self, allowed: Any) -> None:
        """Remember which update kinds the bot wants; an empty list means the default."""
        if not isinstance(allowed, list):
            raise ApiError(400, "Bad Request: can't parse allowed_updates JSON object")
        self.allowed_updates = frozenset(map(str, allowed)) if allowed else None

    def confirm(self, offset: int | None) -> None:
        """Forget updates below offset; a negative offset keeps only the last -offset."""
        if offset is None or offset == 0:
            return
        updates = self.updates
        if offset < 0:
            while len(updates) > -offset:
                updates.popleft()
            return
        while updates and updates[0]["update_id"] < offset:
            updates.popleft()

    def peek(self, limit: int) -> list[dict[str, Any]]:
        """Return up to limit pending updates, oldest first, without confirming them."""
        return list(itertools.islice(self.updates, limit))

    # -- people and chats (test side) ------------------------------------------------------------

    def add_person(self, info: dict[str, Any]) -> Chat:
        """Register a Telegram user and the private chat they have with the bot."""
        self.people[info["id"]] = info
        chat_info = {"id": info["id"], "type": "private", "first_name": info["first_name"]}
        for key in ("last_name", "username"):
            if info.get(key):
                chat_info[key] = info[key]
        return self._add_chat(chat_info)

    def add_group(self, info: dict[str, Any]) -> Chat:
        """Register a group the bot is not yet a member of."""
        chat = self._add_chat(info)
        chat.bot_status = "left"
        return chat

    def _add_chat(self, info: dict[str, Any]) -> Chat:
        """Store a chat under its id."""
        chat = self.chats.get(info["id"])
        if chat is None:
            chat = self.chats[info["id"]] = Chat(info)
        return chat

    def member_update(self, chat: Chat, actor: dict[str, Any], old: str, new: str) -> int:
        """Queue a my_chat_member update for a change of the bot's status in a chat."""
        self.push_update(
            "my_chat_member",
            {
                "chat": chat.info,
                "from": actor,
                "date": self.now(),
                "old_chat_member": self._member(self.bot_from, old),
                "new_chat_member": self._member(self.bot_from, new),
            },
        )
        chat.bot_status = new
        return self.next_update_id - 1

    def _member(self, user: dict[str, Any], status: str) -> dict[str, Any]:
        """Build a ChatMember object."""
        member: dict[str, Any] = {"user": user, "status": status}
        if status == "kicked":
            member["until_date"] = 0
        elif status == "administrator":
            member.update(
                dict.fromkeys(
                    (
                        "can_be_edited",
                        "is_anonymous",
                        "can_manage_video_chats",
                        "can_promote_members",
                        "can_change_info",
                        "can_post_stories",
                        "can_edit_stories",
                        "can_delete_stories",
                    ),
                    False,
                )
            )
            member.update(
                dict.fromkeys(
                    (
                        "can_manage_chat",
                        "can_delete_messages",
                        "can_restrict_members",
                        "can_invite_users",
                    ),
                    True,
                )
            )
        return member

    def person_message(
        self,
        chat: Chat,
        sender: dict[str, Any],
        content: dict[str, Any],
        *,
        reply_to: int | None = None,
    ) -> ChatMessage:
        """Store a message a person sent and queue it as a message update."""
        payload = {
            "message_id": chat.allocate_id(),
            "from": sender,
            "chat": chat.info,
            "date": self.now(),
            **content,
        }
        if reply_to is not None:
            target = chat.messages.get(reply_to)
            if target is None:
                raise LookupError(f"message {reply_to} is not in chat {chat.id}")
            payload["reply_to_message"] = _without_reply(target.payload)
        record = Record(payload, from_bot=False)
        if self.retain_bodies:
            chat.messages[payload["message_id"]] = record
        if chat.private or self._group_delivers(chat, payload):
            self.push_update("message", payload)
        return record.snapshot()

    def _group_delivers(self, chat: Chat, payload: dict[str, Any]) -> bool:
        """Say whether a group message reaches the bot, which runs in privacy mode."""
        if chat.bot_status not in {"member", "administrator"}:
            return False
        if chat.bot_status == "administrator":
            return True
        text = payload.get("text") or payload.get("caption")
        if text is None:
            # Service messages reach a bot in privacy mode; media without a caption does not.
            return not _MEDIA_KINDS.intersection(payload)
        reply = payload.get("reply_to_message") or {}
        return (
            text.startswith("/")
            or f"@{self.bot_from['username']}".lower() in text.lower()
            or (reply.get("from") or {}).get("id") == self.bot_id
        )

    def text_content(self, text: str) -> dict[str, Any]:
        """Build a text message the way Telegram does, marking /commands as entities."""
        content: dict[str, Any] = {"text": text}
        entities = [
            {
                "type": "bot_command",
                "offset": utf16_length(text[: match.start()]),
                "length": utf16_length(match.group(0)),
            }
            for match in _BOT_COMMAND.finditer(text)
        ]
        if entities:
            content["entities"] = entities
        return content

    def person_file(
        self, kind: str, data: bytes, filename: str | None, mime_type: str | None
    ) -> UploadedFile:
        """Store a file a person sent so that the bot can getFile it."""
        return self._store_file(kind, UploadPart(filename, mime_type, data))

    def edit_person_message(self, chat: Chat, message_id: int, text: str) -> ChatMessage:
        """Change a person's own text message and queue an edited_message update."""
        record = chat.messages.get(message_id)
        if record is None or record.from_bot or "text" not in record.payload:
            raise LookupError(f"message {message_id} is not the person's text in chat {chat.id}")
        payload = {
            key: value for key, value in record.payload.items() if key not in {"text", "entities"}
        }
        payload.update(self.text_content(text), edit_date=self.now())
        record.payload = payload
        self.push_update("edited_message", payload)
        return record.snapshot()

    def callback_query(self, chat: Chat, sender: dict[str, Any], record: Record, data: str) -> str:
        """Queue a callback_query as if the person pressed an inline button."""
        query_id = f"{self.bot_id}{next(self._ids):010d}"
        self.open_queries.add(query_id)
        self.push_update(
            "callback_query",
            {
                "id": query_id,
                "from": sender,
                "message": record.payload,
                "chat_instance": str((chat.id * 7919 + self.bot_id * 104729) % (1 << 62)),
                "data": data,
            },
        )
        return query_id

    def add_inline_message(self, text: str, markup: Mapping[str, Any] | None) -> str:
        """Store a message sent via inline mode, which the bot edits by inline_message_id."""
        inline_id = f"EMU-inline-{next(self._ids):08d}"
        payload: dict[str, Any] = {"text": text}
        if markup:
            payload["reply_markup"] = dict(markup)
        self.inline_messages[inline_id] = payload
        return inline_id

    # -- the bot's side -------------------------------------------------------------------------

    def call(self, key: str, params: Params) -> Any:
        """Run one Bot API method by its lower-case name."""
        entry = _METHODS.get(key)
        if entry is None:
            raise ApiError(404, "Not Found")
        return entry[1](self, params)

    def _chat(self, params: Params, *, reachable: bool = True) -> Chat:
        """Resolve chat_id, creating a private chat on the fly when configured to."""
        ref = params.chat_ref()
        if isinstance(ref, str):
            name = ref[1:].lower()
            chat = next(
                (c for c in self.chats.values() if c.info.get("username", "").lower() == name),
                None,
            )
        else:
            chat = self.chats.get(ref)
            if chat is None and self.auto_create_chats and ref > 0:
                chat = self._auto_chat(ref)
        if chat is None:
            raise ApiError(400, "Bad Request: chat not found")
        if reachable:
            _check_reachable(chat)
        return chat

    def _auto_chat(self, chat_id: int) -> Chat:
        """Return a private chat for an id no test created, stored only when bodies are kept."""
        info = {"id": chat_id, "is_bot": False, "first_name": f"Person {chat_id}"}
        if self.retain_bodies:
            return self.add_person(info)
        # A lean emulator keeps only the per-chat count: 100,000 chats must stay cheap.
        chat = Chat({"id": chat_id, "type": "private", "first_name": info["first_name"]})
        chat.next_message_id = self.sent_per_chat[chat_id] + 1
        return chat

    def _reply_markup(self, params: Params, *, inline_only: bool = False) -> dict[str, Any] | None:
        """Validate reply_markup the way Telegram does and return it."""
        if "reply_markup" not in params:
            return None
        markup = params.structure("reply_markup")
        if not isinstance(markup, dict):
            raise ApiError(400, "Bad Request: can't parse reply keyboard markup JSON object")
        if not markup:
            return None  # PTB serializes InlineKeyboardMarkup([]) as {}
        if "inline_keyboard" in markup:
            _check_inline_keyboard(markup["inline_keyboard"])
            if not any(markup["inline_keyboard"]):
                return None  # an empty inline keyboard is how bots remove one
        elif inline_only:
            raise ApiError(400, "Bad Request: REPLY_MARKUP_INVALID")
        elif "keyboard" in markup:
            rows = markup["keyboard"]
            if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
                raise ApiError(
                    400,
                    'Bad Request: field "keyboard" of the ReplyKeyboardMarkup must be an Array',
                )
        elif not markup.get("remove_keyboard") and not markup.get("force_reply"):
            raise ApiError(400, "Bad Request: can't parse reply keyboard markup JSON object")
        return markup

    def _reply_target(self, chat: Chat, params: Params) -> dict[str, Any] | None:
        """Return the message being replied to, enforcing that it exists."""
        reply = params.structure("reply_parameters") if "reply_parameters" in params else None
        if isinstance(reply, dict):
            message_id = reply.get("message_id")
            allow = bool(reply.get("allow_sending_without_reply"))
        else:
            message_id = params.integer("reply_to_message_id")
            allow = params.flag("allow_sending_without_reply")
        if message_id is None:
            return None
        record = chat.messages.get(int(message_id))
        if record is not None:
            return _without_reply(record.payload)
        if allow or (not self.retain_bodies and int(message_id) < chat.next_message_id):
            return None
        raise ApiError(400, "Bad Request: message to be replied not found")

    def _deliver(
        self,
        chat: Chat,
        params: Params,
        content: dict[str, Any],
        *,
        file: UploadedFile | None = None,
    ) -> dict[str, Any]:
        """Store a message the bot sent, put it in the person's inbox and return its JSON."""
        markup = self._reply_markup(params)
        reply = self._reply_target(chat, params)
        payload = {
            "message_id": chat.allocate_id(),
            "from": self.bot_from,
            "chat": chat.info,
            "date": self.now(),
            **content,
        }
        if reply is not None:
            payload["reply_to_message"] = reply
        # Telegram echoes only inline keyboards in the Message; reply keyboards live client-side.
        if markup is not None and "inline_keyboard" in markup:
            payload["reply_markup"] = markup
        if params.flag("protect_content"):
            payload["has_protected_content"] = True
        if markup is not None and "keyboard" in markup:
            chat.reply_keyboard = markup
        elif markup is not None and markup.get("remove_keyboard"):
            chat.reply_keyboard = None
        self.sent_per_chat[chat.id] += 1
        self.sent_total += 1
        if file is not None:
            self.uploads.append(file)
        if self.retain_bodies:
            record = Record(
                payload,
                from_bot=True,
                silent=params.flag("disable_notification"),
                markup=markup,
                parse_mode=params.text("parse_mode"),
                file=file,
            )
            chat.messages[payload["message_id"]] = record
            chat.inbox.append(record.snapshot())
            chat.notify()
        return payload

    def _caption(self, params: Params) -> dict[str, Any]:
        """Parse an optional caption into message fields."""
        if "caption" not in params:
            return {}
        caption, entities = checked_text(
            params.text("caption"),
            params.text("parse_mode"),
            params.structure("caption_entities"),
            caption=True,
        )
        content: dict[str, Any] = {"caption": caption} if caption else {}
        if entities:
            content["caption_entities"] = entities
        return content

    def _store_file(self, kind: str, part: UploadPart | str | None) -> UploadedFile:
        """Keep an uploaded file (or resolve a file_id or URL) and return it."""
        if part is None:
            raise ApiError(400, f"Bad Request: there is no {kind} in the request")
        if isinstance(part, str):
            known = self.files.get(part)
            if known is not None:
                return known
            if not part.startswith(("http://", "https://")):
                raise ApiError(400, "Bad Request: wrong file identifier/HTTP URL specified")
            data, url, filename, mime = None, part, part.rsplit("/", 1)[-1] or None, None
        else:
            if not part.data:
                raise ApiError(400, "Bad Request: file must be non-empty")
            data, url, filename, mime = part.data, None, part.filename, part.content_type
        number = next(self._ids)
        uploaded = UploadedFile(
            file_id=f"EMU-{kind}-{number:08d}",
            file_unique_id=f"U{number:08d}",
            kind=kind,
            filename=filename,
            mime_type=mime,
            size=len(data) if data is not None else 0,
            data=data if self.retain_bodies else None,
            url=url,
        )
        self.files[uploaded.file_id] = uploaded
        return uploaded

    def _edit_target(self, params: Params) -> tuple[Chat, Record | None, int] | str:
        """Find the message an edit method names: a stored message or an inline message id."""
        inline = params.text("inline_message_id")
        if inline:
            if inline not in self.inline_messages:
                raise ApiError(400, "Bad Request: MESSAGE_ID_INVALID")
            return inline
        chat = self._chat(params)
        message_id = params.integer("message_id")
        if message_id is None:
            raise ApiError(400, "Bad Request: message identifier is not specified")
        record = chat.messages.get(message_id)
        if record is None:
            # A lean emulator keeps no bodies; any id it handed out may be edited.
            if not self.retain_bodies and 0 < message_id < chat.next_message_id:
                return chat, None, message_id
            raise ApiError(400, "Bad Request: message to edit not found")
        if not record.from_bot:
            raise ApiError(400, "Bad Request: message can't be edited")
        return chat, record, message_id

    def _apply_edit(
        self,
        target: tuple[Chat, Record | None, int] | str,
        changes: dict[str, Any],
        markup: dict[str, Any] | None,
        parse_mode: str | None,
    ) -> dict[str, Any] | bool:
        """Apply an edit, refusing one that changes nothing, and return the edited message."""
        replaced = set(changes) | {"reply_markup"}
        fields = {key: value for key, value in changes.items() if value}
        if markup is not None:
            fields["reply_markup"] = markup
        if isinstance(target, str):
            old = self.inline_messages[target]
        else:
            chat, record, message_id = target
            old = record.payload if record else {}
        if old and all(old.get(key) == fields.get(key) for key in replaced):
            raise ApiError(
                400,
                "Bad Request: message is not modified: specified new message content and reply "
                "markup are exactly the same as a current content and reply markup of the message",
            )
        kept = {key: value for key, value in old.items() if key not in replaced}
        payload = {**kept, **fields, "edit_date": self.now()}
        if isinstance(target, str):
            self.inline_messages[target] = payload
            return True
        if record is None:
            lean = {"message_id": message_id, "from": self.bot_from, "chat": chat.info}
            return {**lean, "date": self.now(), **payload}
        record.payload = payload
        record.markup = markup
        if "text" in changes or "caption" in changes:
            record.parse_mode = parse_mode
        chat.notify()
        return payload

    def delete(self, chat: Chat, message_id: int) -> bool:
        """Delete one message if Telegram would still allow it; say whether it did."""
        record = chat.messages.get(message_id)
        if record is None:
            return not self.retain_bodies and 0 < message_id < chat.next_message_id
        if self.now() - record.payload["date"] > DELETE_WINDOW_SECONDS:
            return False
        if not chat.private and not record.from_bot and chat.bot_status != "administrator":
            raise ApiError(400, "Bad Request: message can't be deleted")
        del chat.messages[message_id]
        chat.notify()
        return True

    # -- Bot API methods -------------------------------------------------------------------------

    @_method("getMe")
    def _get_me(self, params: Params) -> dict[str, Any]:
        return {
            **self.bot_from,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    @_method("logOut")
    def _log_out(self, params: Params) -> bool:
        return True

    @_method("close")
    def _close(self, params: Params) -> bool:
        return True

    @_method("setWebhook")
    def _set_webhook(self, params: Params) -> bool:
        url = params.text("url") or ""
        if not url:
            self.webhook = None
            return True
        if not url.startswith(("http://", "https://")):
            raise ApiError(
                400, "Bad Request: bad webhook: An HTTPS URL must be provided for webhook"
            )
        secret = params.text("secret_token")
        if secret is not None and not _SECRET_TOKEN.fullmatch(secret):
            raise ApiError(400, "Bad Request: secret token contains unallowed characters")
        allowed = params.structure("allowed_updates") if "allowed_updates" in params else None
        if allowed is not None:
            self.set_allowed_updates(allowed)
        if params.flag("drop_pending_updates"):
            self.updates.clear()
        self.webhook = Webhook(
            url=url,
            secret_token=secret,
            allowed_updates=tuple(allowed) if allowed else None,
            max_connections=params.integer("max_connections") or 40,
        )
        self.webhook_error = None
        self.wake()
        return True

    @_method("deleteWebhook")
    def _delete_webhook(self, params: Params) -> bool:
        self.webhook = None
        if params.flag("drop_pending_updates"):
            self.updates.clear()
        return True

    @_method("getWebhookInfo")
    def _get_webhook_info(self, params: Params) -> dict[str, Any]:
        hook = self.webhook
        info: dict[str, Any] = {
            "url": hook.url if hook else "",
            "has_custom_certificate": False,
            "pending_update_count": len(self.updates),
        }
        if hook is not None:
            info["max_connections"] = hook.max_connections
            if hook.allowed_updates:
                info["allowed_updates"] = list(hook.allowed_updates)
        if hook is not None and self.webhook_error is not None:
            info["last_error_date"], info["last_error_message"] = self.webhook_error
        return info

    @_method("sendMessage")
    def _send_message(self, params: Params) -> dict[str, Any]:
        chat = self._chat(params)
        text, entities = checked_text(
            params.text("text"), params.text("parse_mode"), params.structure("entities")
        )
        content: dict[str, Any] = {"text": text}
        if entities:
            content["entities"] = entities
        return self._deliver(chat, params, content)

    @_method("sendPhoto")
    def _send_photo(self, params: Params) -> dict[str, Any]:
        chat = self._chat(params)
        caption = self._caption(params)
        uploaded = self._store_file("photo", params.upload("photo"))
        width, height = image_size(uploaded.data or b"")
        size = {
            "file_id": uploaded.file_id,
            "file_unique_id": uploaded.file_unique_id,
            "width": width,
            "height": height,
            "file_size": uploaded.size,
        }
        return self._deliver(chat, params, {"photo": [size], **caption}, file=uploaded)

    @_method("sendDocument")
    def _send_document(self, params: Params) -> dict[str, Any]:
        chat = self._chat(params)
        caption = self._caption(params)
        uploaded = self._store_file("document", params.upload("document"))
        document: dict[str, Any] = {
            "file_id": uploaded.file_id,
            "file_unique_id": uploaded.file_unique_id,
            "file_size": uploaded.size,
        }
        if uploaded.filename:
            document["file_name"] = uploaded.filename
        if uploaded.mime_type:
            document["mime_type"] = uploaded.mime_type
        return self._deliver(chat, params, {"document": document, **caption}, file=uploaded)

    @_method("getFile")
    def _get_file(self, params: Params) -> dict[str, Any]:
        file_id = params.text("file_id") or ""
        uploaded = self.files.get(file_id)
        if uploaded is None:
            raise ApiError(400, "Bad Request: invalid file_id")
        if uploaded.size > 20 * 1024 * 1024:
            raise ApiError(400, "Bad Request: file is too big")
        extension = (uploaded.filename or "").rpartition(".")[2] or "bin"
        path = f"{uploaded.kind}s/file_{uploaded.file_unique_id}.{extension}"
        self.file_paths[path] = file_id
        return {
            "file_id": uploaded.file_id,
            "file_unique_id": uploaded.file_unique_id,
            "file_size": uploaded.size,
            "file_path": path,
        }

    @_method("editMessageText")
    def _edit_message_text(self, params: Params) -> dict[str, Any] | bool:
        target = self._edit_target(params)
        if not isinstance(target, str) and target[1] and "text" not in target[1].payload:
            raise ApiError(400, "Bad Request: there is no text in the message to edit")
        text, entities = checked_text(
            params.text("text"), params.text("parse_mode"), params.structure("entities")
        )
        markup = self._reply_markup(params, inline_only=True)
        changes = {"text": text, "entities": entities}
        return self._apply_edit(target, changes, markup, params.text("parse_mode"))

    @_method("editMessageCaption")
    def _edit_message_caption(self, params: Params) -> dict[str, Any] | bool:
        target = self._edit_target(params)
        if not isinstance(target, str) and target[1] and "text" in target[1].payload:
            raise ApiError(400, "Bad Request: there is no caption in the message to edit")
        caption, entities = checked_text(
            params.text("caption"),
            params.text("parse_mode"),
            params.structure("caption_entities"),
            caption=True,
        )
        markup = self._reply_markup(params, inline_only=True)
        changes = {"caption": caption, "caption_entities": entities}
        return self._apply_edit(target, changes, markup, params.text("parse_mode"))

    @_method("editMessageReplyMarkup")
    def _edit_message_reply_markup(self, params: Params) -> dict[str, Any] | bool:
        target = self._edit_target(params)
        markup = self._reply_markup(params, inline_only=True)
        parse_mode = None if isinstance(target, str) or not target[1] else target[1].parse_mode
        return self._apply_edit(target, {}, markup, parse_mode)

    @_method("deleteMessage")
    def _delete_message(self, params: Params) -> bool:
        chat = self._chat(params)
        message_id = params.integer("message_id")
        if message_id is None or not self.delete(chat, message_id):
            raise ApiError(400, "Bad Request: message to delete not found")
        return True

    @_method("deleteMessages")
    def _delete_messages(self, params: Params) -> bool:
        chat = self._chat(params)
        message_ids = params.structure("message_ids")
        if not isinstance(message_ids, list) or not message_ids:
            raise ApiError(400, "Bad Request: message identifiers are not specified")
        if len(message_ids) > 100:
            raise ApiError(400, "Bad Request: too many message identifiers specified")
        # Telegram skips the messages it cannot delete and still answers true.
        for message_id in message_ids:
            self.delete(chat, int(message_id))
        return True

    @_method("answerCallbackQuery")
    def _answer_callback_query(self, params: Params) -> bool:
        query_id = params.text("callback_query_id") or ""
        if query_id not in self.open_queries:
            raise ApiError(
                400,
                "Bad Request: query is too old and response timeout expired or query ID is "
                "invalid",
            )
        text = params.text("text")
        if text is not None and len(text) > 200:
            raise ApiError(400, "Bad Request: MESSAGE_TOO_LONG")
        self.open_queries.discard(query_id)
        self.callback_answers[query_id] = CallbackAnswer(
            query_id=query_id,
            text=text,
            show_alert=params.flag("show_alert"),
            url=params.text("url"),
            cache_time=params.integer("cache_time") or 0,
        )
        self.answer_signal.fire()
        return True

    @_method("sendChatAction")
    def _send_chat_action(self, params: Params) -> bool:
        chat = self._chat(params)
        action = params.text("action") or ""
        if action not in CHAT_ACTIONS:
            raise ApiError(400, "Bad Request: wrong parameter action in request")
        chat.last_action = action
        return True

    @_method("setMyCommands")
    def _set_my_commands(self, params: Params) -> bool:
        commands = params.structure("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise ApiError(400, "Bad Request: can't parse commands JSON object")
        registered = []
        for entry in commands:
            if not isinstance(entry, dict):
                raise ApiError(400, "Bad Request: can't parse BotCommand JSON object")
            command = str(entry.get("command", "")).removeprefix("/")
            description = str(entry.get("description", ""))
            if not _COMMAND_NAME.fullmatch(command):
                raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
            if not 1 <= len(description) <= 256:
                raise ApiError(400, "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID")
            registered.append(RegisteredCommand(command, description))
        self.commands[self._command_key(params)] = tuple(registered)
        return True

    @_method("getMyCommands")
    def _get_my_commands(self, params: Params) -> list[dict[str, str]]:
        commands = self.commands.get(self._command_key(params), ())
        return [{"command": c.command, "description": c.description} for c in commands]

    @_method("deleteMyCommands")
    def _delete_my_commands(self, params: Params) -> bool:
        self.commands.pop(self._command_key(params), None)
        return True

    def _command_key(self, params: Params) -> tuple[str, str]:
        """Return the (scope, language) key a command list is stored under."""
        scope = params.structure("scope") if "scope" in params else {"type": "default"}
        if not isinstance(scope, dict) or "type" not in scope:
            raise ApiError(400, "Bad Request: can't parse BotCommandScope JSON object")
        language = params.text("language_code") or ""
        if language and not re.fullmatch(r"[a-z]{2}", language):
            raise ApiError(400, "Bad Request: invalid language code specified")
        return scope_key(scope), language

    @_method("setMyName")
    def _set_my_name(self, params: Params) -> bool:
        return self._set_bot_text(params, "name")

    @_method("getMyName")
    def _get_my_name(self, params: Params) -> dict[str, str]:
        return self._get_bot_text(params, "name")

    @_method("setMyDescription")
    def _set_my_description(self, params: Params) -> bool:
        return self._set_bot_text(params, "description")

    @_method("getMyDescription")
    def _get_my_description(self, params: Params) -> dict[str, str]:
        return self._get_bot_text(params, "description")

    @_method("setMyShortDescription")
    def _set_my_short_description(self, params: Params) -> bool:
        return self._set_bot_text(params, "short_description")

    @_method("getMyShortDescription")
    def _get_my_short_description(self, params: Params) -> dict[str, str]:
        return self._get_bot_text(params, "short_description")

    def _set_bot_text(self, params: Params, field: str) -> bool:
        """Store the bot's name or description for one language."""
        value = params.text(field) or ""
        if len(value) > _BOT_TEXT_LIMITS[field]:
            raise ApiError(400, f"Bad Request: bot {field.replace('_', ' ')} is too long")
        self.bot_texts[(field, params.text("language_code") or "")] = value
        return True

    def _get_bot_text(self, params: Params, field: str) -> dict[str, str]:
        """Return the bot's name or description for one language."""
        language = params.text("language_code") or ""
        default = str(self.bot_from["first_name"]) if field == "name" else ""
        return {field: self.bot_texts.get((field, language), default)}

    @_method("setChatMenuButton")
    def _set_chat_menu_button(self, params: Params) -> bool:
        chat_id = self._chat(params, reachable=False).id if "chat_id" in params else None
        self.menu_buttons[chat_id] = params.structure("menu_button") or {"type": "default"}
        return True

    @_method("getChatMenuButton")
    def _get_chat_menu_button(self, params: Params) -> Any:
        chat_id = self._chat(params, reachable=False).id if "chat_id" in params else None
        fallback = self.menu_buttons.get(None, {"type": "default"})
        return self.menu_buttons.get(chat_id, fallback)

    @_method("getChat")
    def _get_chat(self, params: Params) -> dict[str, Any]:
        chat = self._chat(params, reachable=False)
        gifts = ("unlimited_gifts", "limited_gifts", "unique_gifts", "premium_subscription")
        return {
            **chat.info,
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": dict.fromkeys((*gifts, "gifts_from_channels"), False),
        }

    @_method("getChatMember")
    def _get_chat_member(self, params: Params) -> dict[str, Any]:
        chat = self._chat(params, reachable=False)
        user_id = params.integer("user_id")
        if user_id == self.bot_id:
            return self._member(self.bot_from, chat.bot_status)
        person = self.people.get(user_id or 0)
        if person is None:
            raise ApiError(400, "Bad Request: user not found")
        return self._member(person, "member")

    @_method("leaveChat")
    def _leave_chat(self, params: Params) -> bool:
        chat = self._chat(params, reachable=False)
        if chat.private:
            raise ApiError(
                400, "Bad Request: chat member status can't be changed in private chats"
            )
        _check_reachable(chat)
        self.member_update(chat, self.bot_from, chat.bot_status, "left")
        return True


def scope_key(scope: Mapping[str, Any]) -> str:
    """Return a stable key for a BotCommandScope."""
    return json.dumps(dict(scope), sort_keys=True, separators=(",", ":"))


def _without_reply(payload: dict[str, Any]) -> dict[str, Any]:
    """Return a message as it appears inside reply_to_message (not nested further)."""
    if "reply_to_message" not in payload:
        return payload
    return {key: value for key, value in payload.items() if key != "reply_to_message"}


def _check_reachable(chat: Chat) -> None:
    """Refuse to act in a chat where the person blocked the bot or the bot is not a member."""
    if chat.private:
        if chat.blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        if chat.deactivated:
            raise ApiError(403, "Forbidden: user is deactivated")
        return
    kind = "supergroup" if chat.info["type"] == "supergroup" else "group"
    if chat.bot_status == "kicked":
        raise ApiError(403, f"Forbidden: bot was kicked from the {kind} chat")
    if chat.bot_status == "left":
        raise ApiError(403, f"Forbidden: bot is not a member of the {kind} chat")


def _check_inline_keyboard(rows: Any) -> None:
    """Validate inline buttons, including Telegram's 1-64 byte limit on callback_data."""
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise ApiError(
            400,
            'Bad Request: field "inline_keyboard" of the InlineKeyboardMarkup must be an Array',
        )
    for button in itertools.chain.from_iterable(rows):
        if not isinstance(button, dict) or not isinstance(button.get("text"), str):
            raise ApiError(
                400,
                "Bad Request: can't parse inline keyboard button: Text buttons are unallowed in "
                "the inline keyboard",
            )
        actions = _INLINE_BUTTON_ACTIONS.intersection(button)
        if len(actions) != 1:
            raise ApiError(
                400,
                "Bad Request: can't parse inline keyboard button: InlineKeyboardButton must "
                "have exactly one of the optional fields",
            )
        if "callback_data" in actions:
            size = len(str(button["callback_data"]).encode())
            if not 1 <= size <= MAX_CALLBACK_DATA_BYTES:
                raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
        if "url" in actions and not str(button["url"]).startswith(
            ("http://", "https://", "tg://")
        ):
            raise ApiError(400, "Bad Request: BUTTON_URL_INVALID")


def image_size(data: bytes) -> tuple[int, int]:
    """Read width and height from PNG or JPEG bytes; other data reports 512x512."""
    if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return int(width), int(height)
    if data[:2] == b"\xff\xd8":
        i = 2
        while i + 9 < len(data) and data[i] == 0xFF:
            marker, length = data[i + 1], int.from_bytes(data[i + 2 : i + 4], "big")
            if marker in {0xC0, 0xC1, 0xC2}:
                height, width = struct.unpack(">HH", data[i + 5 : i + 9])
                return int(width), int(height)
            i += 2 + length
    return 512, 512


def chat_keyboard_labels(markup: Mapping[str, Any] | None) -> Iterable[str]:
    """Yield every label of a reply keyboard."""
    for row in (markup or {}).get("keyboard") or []:
        for button in row:
            yield str(button.get("text", "")) if isinstance(button, Mapping) else str(button)
