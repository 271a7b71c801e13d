"""A local Telegram Bot API emulator over real HTTP, for end-to-end tests and benchmarks."""

from emulator.models import (
    ApiCall,
    ApiError,
    CallbackAnswer,
    ChatMessage,
    RegisteredCommand,
    UploadedFile,
    Webhook,
)
from emulator.people import TINY_PNG, EmulatedUser, GroupChat
from emulator.server import DEFAULT_TOKEN, BotApiEmulator
from emulator.threaded import EmulatorThread

__all__ = [
    "DEFAULT_TOKEN",
    "TINY_PNG",
    "ApiCall",
    "ApiError",
    "BotApiEmulator",
    "CallbackAnswer",
    "ChatMessage",
    "EmulatedUser",
    "EmulatorThread",
    "GroupChat",
    "RegisteredCommand",
    "UploadedFile",
    "Webhook",
]
