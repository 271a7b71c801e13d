"""Read-only views of the emulated Telegram world that tests inspect, and the API error."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


class ApiError(Exception):
    """A Bot API error answer: HTTP status, description and, for flood limits, retry_after."""

    def __init__(self, code: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.retry_after = retry_after

    def payload(self) -> dict[str, Any]:
        """Return the JSON body Telegram sends with this error."""
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.code,
            "description": self.description,
        }
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


@dataclass(frozen=True, slots=True)
class UploadedFile:
    """A file the bot uploaded or a person sent; data is None for URLs and lean emulators."""

    file_id: str
    file_unique_id: str
    kind: str
    filename: str | None
    mime_type: str | None
    size: int
    data: bytes | None
    url: str | None = None


@dataclass(frozen=True, slots=True)
class ChatMessage:
    """One message in a chat as a person sees it; raw is the Bot API JSON (do not mutate)."""

    message_id: int
    chat_id: int
    date: int
    from_bot: bool
    kind: str
    text: str | None
    caption: str | None
    parse_mode: str | None
    reply_markup: Mapping[str, Any] | None
    protect_content: bool
    disable_notification: bool
    reply_to_message_id: int | None
    edit_date: int | None
    file: UploadedFile | None
    raw: Mapping[str, Any]

    @property
    def content(self) -> str | None:
        """Return the text, or the caption of a media message."""
        return self.text if self.text is not None else self.caption

    @property
    def entities(self) -> list[Mapping[str, Any]]:
        """Return the text or caption entities Telegram parsed."""
        return list(self.raw.get("entities") or self.raw.get("caption_entities") or [])

    @property
    def buttons(self) -> tuple[tuple[str, ...], ...]:
        """Return the labels of the inline or reply keyboard, row by row."""
        return tuple(tuple(_label(button) for button in row) for row in _rows(self.reply_markup))

    @property
    def has_inline_keyboard(self) -> bool:
        """Say whether the message carries inline buttons that can still be pressed."""
        return bool(self.reply_markup and self.reply_markup.get("inline_keyboard"))

    def callback_data(self, label: str) -> str | None:
        """Return the callback_data of the inline button with this label, if there is one."""
        for row in _rows(self.reply_markup):
            for button in row:
                if isinstance(button, Mapping) and button.get("text") == label:
                    data = button.get("callback_data")
                    return str(data) if data is not None else None
        return None


def _rows(markup: Mapping[str, Any] | None) -> list[list[Any]]:
    """Return the keyboard rows of inline or reply markup."""
    if not markup:
        return []
    return list(markup.get("inline_keyboard") or markup.get("keyboard") or [])


def _label(button: Any) -> str:
    """Return a button's label; reply keyboards may use bare strings."""
    return str(button.get("text", "")) if isinstance(button, Mapping) else str(button)


@dataclass(frozen=True, slots=True)
class ApiCall:
    """One Bot API request the bot made, with monotonic time and outcome."""

    method: str
    at: float
    status: int
    chat_id: int | str | None
    description: str | None
    params: Mapping[str, Any] | None

    @property
    def ok(self) -> bool:
        """Say whether Telegram answered with success."""
        return self.status == 200


@dataclass(frozen=True, slots=True)
class CallbackAnswer:
    """How the bot answered one callback query."""

    query_id: str
    text: str | None
    show_alert: bool
    url: str | None
    cache_time: int


@dataclass(frozen=True, slots=True)
class RegisteredCommand:
    """One entry of the bot's command menu."""

    command: str
    description: str


@dataclass(frozen=True, slots=True)
class Webhook:
    """The webhook the bot registered with setWebhook."""

    url: str
    secret_token: str | None
    allowed_updates: tuple[str, ...] | None
    max_connections: int
