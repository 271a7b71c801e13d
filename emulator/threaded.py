"""Serving an emulator from a background thread, for synchronous code such as benchmarks."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self, TypeVar

if TYPE_CHECKING:
    from emulator.server import BotApiEmulator

T = TypeVar("T")


class EmulatorThread:
    """Runs a BotApiEmulator on its own event loop in a daemon thread."""

    def __init__(self, api: BotApiEmulator) -> None:
        self.api = api
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """Return the emulator's Bot API base URL."""
        return self.api.base_url

    def start(self) -> None:
        """Start the thread and the emulator in it."""
        if self._loop is not None:
            raise RuntimeError("the emulator thread is already running")
        loop = asyncio.new_event_loop()
        self._loop = loop
        self._thread = threading.Thread(
            target=self._run, args=(loop,), name="bot-api-emulator", daemon=True
        )
        self._thread.start()
        try:
            self.call(self.api.start())
        except BaseException:
            self._stop_loop()
            raise

    def call(self, awaitable: Coroutine[Any, Any, T], timeout: float | None = 60.0) -> T:
        """Run a coroutine (user.send(...), user.next_bot_message()) on the emulator's loop."""
        if self._loop is None:
            awaitable.close()
            raise RuntimeError("the emulator thread is not running")
        return asyncio.run_coroutine_threadsafe(awaitable, self._loop).result(timeout)

    def stop(self) -> None:
        """Close the emulator and end its thread."""
        if self._loop is None:
            return
        try:
            self.call(self.api.close())
        finally:
            self._stop_loop()

    def _stop_loop(self) -> None:
        """Stop the loop and wait for the thread to finish closing it."""
        loop, thread = self._loop, self._thread
        self._loop = self._thread = None
        if loop is not None:
            loop.call_soon_threadsafe(loop.stop)
        if thread is not None:
            thread.join(timeout=10)

    @staticmethod
    def _run(loop: asyncio.AbstractEventLoop) -> None:
        """Run the loop until stopped, then close it."""
        asyncio.set_event_loop(loop)
        try:
            loop.run_forever()
        finally:
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.run_until_complete(loop.shutdown_default_executor())
            loop.close()
