"""A local Telegram Bot API over real HTTP, with fault injection and flood limits."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import math
import socket
import threading
import time
from collections import Counter, deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

import aiohttp
from aiohttp import BodyPartReader, web

from emulator.models import (
    ApiCall,
    ApiError,
    CallbackAnswer,
    RegisteredCommand,
    UploadedFile,
    Webhook,
)
from emulator.people import EmulatedUser, GroupChat
from emulator.state import (
    SENDING_METHODS,
    BotApiState,
    Params,
    UploadPart,
    canonical_method,
    scope_key,
)

if TYPE_CHECKING:
    from emulator.threaded import EmulatorThread

logger = logging.getLogger(__name__)

DEFAULT_TOKEN = "123456:TEST-TOKEN"
_DESCRIPTIONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    409: "Conflict",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}
_JSON = "application/json"


@dataclass(slots=True)
class _Fault:
    """One injected failure waiting for the next matching call."""

    error: ApiError | None
    status: int | None
    delay: float
    disconnect: bool
    remaining: int | None


class _Window:
    """A sliding-window flood limit over monotonic time."""

    __slots__ = ("capacity", "seconds", "stamps")

    def __init__(self, per_second: float, seconds: float) -> None:
        capacity = round(per_second * seconds)
        if capacity < 1:
            raise ValueError("the limit must allow at least one call per window")
        self.capacity = capacity
        self.seconds = seconds
        self.stamps: deque[float] = deque()

    def retry_after(self, now: float) -> int | None:
        """Return how long to wait if a call now would exceed the limit, else None."""
        stamps = self.stamps
        while stamps and now - stamps[0] >= self.seconds:
            stamps.popleft()
        if len(stamps) < self.capacity:
            return None
        return max(1, math.ceil(stamps[0] + self.seconds - now))


class BotApiEmulator:
    """The Telegram Bot API for one bot, served on a loopback port for tests and benchmarks."""

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        *,
        username: str = "safeplace_test_bot",
        first_name: str = "SafePlace",
        host: str = "127.0.0.1",
        port: int = 0,
        retain_bodies: bool = True,
        auto_create_chats: bool = False,
        max_calls: int | None = None,
        deliver_webhooks: bool = True,
    ) -> None:
        """Configure the emulator; retain_bodies=False keeps counts only (for benchmarks)."""
        self.token = token
        self.host = host
        self.retain_bodies = retain_bodies
        self.deliver_webhooks = deliver_webhooks
        self.state = BotApiState(
            token,
            username=username,
            first_name=first_name,
            retain_bodies=retain_bodies,
            auto_create_chats=auto_create_chats,
        )
        self.state.wake = self._wake
        self._requested_port = port
        self._port: int | None = None
        self._calls: deque[ApiCall] = deque(maxlen=max_calls)
        self._ok_counts: Counter[str] = Counter()
        self._faults: dict[str, deque[_Fault]] = {}
        self._global_limit: _Window | None = None
        self._chat_limit: tuple[float, float] | None = None
        self._chat_windows: dict[int | str, _Window] = {}
        self._chat_windows_cap = 10_000
        self._users: dict[int, EmulatedUser] = {}
        self._groups: dict[int, GroupChat] = {}
        self._person_ids = itertools.count(100001)
        self._group_ids = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread: int | None = None
        self._poller: asyncio.Future[bool] | None = None
        self._closing: asyncio.Event | None = None
        self._webhook_event: asyncio.Event | None = None
        self._webhook_task: asyncio.Task[None] | None = None
        self.webhook_deliveries = 0

    # -- lifecycle ---------------------------------------------------------------------------

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    async def start(self) -> None:
        """Bind the loopback port and start answering requests."""
        if self._runner is not None:
            raise RuntimeError("the emulator is already running")
        self._loop = asyncio.get_running_loop()
        self._loop_thread = threading.get_ident()
        self._closing = asyncio.Event()
        self._webhook_event = asyncio.Event()
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=5.0)
        await runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            sock.bind((self.host, self._requested_port))
            self._port = sock.getsockname()[1]
            await web.SockSite(runner, sock, backlog=1024).start()
        except BaseException:
            sock.close()
            await runner.cleanup()
            raise
        self._runner = runner
        logger.debug("Bot API emulator listening on port %s", self._port)

    async def close(self) -> None:
        """Answer pending long polls, stop webhook delivery and close the port."""
        runner, self._runner = self._runner, None
        if runner is None:
            return
        assert self._closing is not None
        self._closing.set()
        self._wake_now()
        task, self._webhook_task = self._webhook_task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await runner.cleanup()

    def run_in_thread(self) -> EmulatorThread:
        """Return a context manager that serves this emulator from a background thread."""
        from emulator.threaded import EmulatorThread

        return EmulatorThread(self)

    # -- addresses ---------------------------------------------------------------------------

    @property
    def port(self) -> int:
        """Return the bound port."""
        if self._port is None:
            raise RuntimeError("the emulator is not running")
        return self._port

    @property
    def url(self) -> str:
        """Return the server root, e.g. http://127.0.0.1:PORT."""
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        """Return the Bot API URL with python-telegram-bot base_url semantics (token appended)."""
        return f"{self.url}/bot"

    @property
    def base_file_url(self) -> str:
        """Return the file download URL with python-telegram-bot base_file_url semantics."""
        return f"{self.url}/file/bot"

    @property
    def bot_id(self) -> int:
        """Return the bot's user id (the token's numeric prefix)."""
        return self.state.bot_id

    @property
    def bot_username(self) -> str:
        """Return the bot's @username without the @."""
        return str(self.state.bot_from["username"])

    # -- people and chats --------------------------------------------------------------------

    def user(
        self,
        id: int | None = None,
        first_name: str = "Alex",
        *,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "en",
        is_premium: bool = False,
    ) -> EmulatedUser:
        """Return the Telegram user with this id (created on first use) and their private chat."""
        if id is not None and id in self._users:
            return self._users[id]
        if id is None:
            id = next(i for i in self._person_ids if i not in self._users)
        info: dict[str, Any] = {"id": id, "is_bot": False, "first_name": first_name}
        if last_name:
            info["last_name"] = last_name
        if username:
            info["username"] = username
        if language_code:
            info["language_code"] = language_code
        if is_premium:
            info["is_premium"] = True
        chat = self.state.add_person(info)
        user = self._users[id] = EmulatedUser(self, chat, info)
        return user

    def group_chat(
        self,
        id: int | None = None,
        title: str = "Test group",
        *,
        supergroup: bool = False,
        username: str | None = None,
    ) -> GroupChat:
        """Return a group (the bot is not in it until add_bot_to_group)."""
        if id is not None and id in self._groups:
            return self._groups[id]
        if id is None:
            number = next(self._group_ids)
            id = -(1_000_000_000_000 + number) if supergroup else -(400_000 + number)
        info: dict[str, Any] = {
            "id": id,
            "type": "supergroup" if supergroup else "group",
            "title": title,
        }
        if username:
            info["username"] = username
        group = self._groups[id] = GroupChat(self, self.state.add_group(info))
        return group

    async def add_bot_to_group(
        self, group: GroupChat, by: EmulatedUser, *, admin: bool = False
    ) -> None:
        """Add the bot to a group: a my_chat_member update and a new_chat_members message."""
        chat = group.chat
        self.state.member_update(
            chat, by.info, chat.bot_status, "administrator" if admin else "member"
        )
        self.state.person_message(chat, by.info, {"new_chat_members": [self.state.bot_from]})

    async def remove_bot_from_group(self, group: GroupChat, by: EmulatedUser) -> None:
        """Remove the bot from a group as its admin would."""
        self.state.member_update(group.chat, by.info, group.chat.bot_status, "kicked")
        self.state.person_message(group.chat, by.info, {"left_chat_member": self.state.bot_from})

    def create_inline_message(
        self, text: str, reply_markup: Mapping[str, Any] | None = None
    ) -> str:
        """Create a message sent via inline mode; return its inline_message_id."""
        return self.state.add_inline_message(text, reply_markup)

    def inline_message(self, inline_message_id: str) -> Mapping[str, Any]:
        """Return an inline message as it looks now (text, reply_markup, edit_date)."""
        return self.state.inline_messages[inline_message_id]

    def push_update(self, update: Mapping[str, Any]) -> int:
        """Queue any update as given (malformed ones too) and return its update_id."""
        return self.state.push_raw_update(update)

    def advance_time(self, seconds: float) -> None:
        """Move Telegram's wall clock forward (message dates, the 48-hour delete window)."""
        self.state.clock_offset += seconds

    # -- inspection --------------------------------------------------------------------------

    @property
    def calls(self) -> Sequence[ApiCall]:
        """Return every Bot API call so far (the newest max_calls), oldest first."""
        return self._calls

    def calls_to(self, method: str) -> list[ApiCall]:
        """Return the calls of one method, e.g. "sendMessage"."""
        key = method.lower()
        return [call for call in self._calls if call.method.lower() == key]

    def count(self, method: str) -> int:
        """Return how many calls of one method succeeded (not limited by max_calls)."""
        return self._ok_counts[canonical_method(method.lower()) or method]

    def sent_count(self, chat_id: int | None = None) -> int:
        """Return how many messages the bot sent in total, or to one chat."""
        if chat_id is None:
            return self.state.sent_total
        return self.state.sent_per_chat[chat_id]

    @property
    def commands(self) -> dict[str, tuple[RegisteredCommand, ...]]:
        """Return the default-scope command menus by language code ("" for all languages)."""
        default = scope_key({"type": "default"})
        return {
            lang: cmds for (scope, lang), cmds in self.state.commands.items() if scope == default
        }

    def commands_for(
        self, language_code: str = "", scope: Mapping[str, Any] | None = None
    ) -> tuple[RegisteredCommand, ...]:
        """Return the command menu registered for one scope and language."""
        key = scope_key(scope or {"type": "default"})
        return self.state.commands.get((key, language_code), ())

    def bot_text(self, field: str, language_code: str = "") -> str | None:
        """Return the bot's name, description or short_description set for a language."""
        return self.state.bot_texts.get((field, language_code))

    @property
    def uploads(self) -> list[UploadedFile]:
        """Return the files the bot sent (photos, documents), oldest first."""
        return self.state.uploads

    @property
    def callback_answers(self) -> Mapping[str, CallbackAnswer]:
        """Return the bot's answers to callback queries by query id."""
        return self.state.callback_answers

    async def wait_for_callback_answer(
        self, query_id: str, timeout: float = 5.0
    ) -> CallbackAnswer:
        """Wait until the bot answers one callback query."""
        deadline = time.monotonic() + timeout
        while query_id not in self.state.callback_answers:
            if not await self.state.answer_signal.wait(deadline):
                raise TimeoutError(f"the bot did not answer callback query {query_id}")
        return self.state.callback_answers[query_id]

    @property
    def webhook(self) -> Webhook | None:
        """Return the webhook the bot set, if any."""
        return self.state.webhook

    @property
    def pending_updates(self) -> int:
        """Return how many updates wait for the bot to confirm them."""
        return len(self.state.updates)

    def failed_calls(self, chat_id: int | None = None) -> list[ApiCall]:
        """Return the calls Telegram refused, optionally only those for one chat."""
        return [
            call
            for call in self._calls
            if not call.ok and (chat_id is None or call.chat_id == chat_id)
        ]

    # -- faults and limits -------------------------------------------------------------------

    def fail_next(
        self,
        method: str = "*",
        error_code: int | None = None,
        *,
        description: str | None = None,
        retry_after: int | None = None,
        status: int | None = None,
        delay: float = 0.0,
        disconnect: bool = False,
        times: int | None = 1,
    ) -> None:
        """Make the next calls of a method ("*" for any) fail; times=None until clear_faults.

        error_code answers Telegram's JSON error (429 with retry_after for flood limits);
        status answers a bare HTTP error page (a proxy's 502); delay holds the answer back;
        disconnect drops the connection without an answer.
        """
        if retry_after is not None and error_code is None:
            error_code = 429
        error = None
        if error_code is not None:
            if description is None:
                description = (
                    f"Too Many Requests: retry after {retry_after or 1}"
                    if error_code == 429
                    else _DESCRIPTIONS.get(error_code, "Error")
                )
            if error_code == 429 and retry_after is None:
                retry_after = 1
            error = ApiError(error_code, description, retry_after)
        if error is None and status is None and not disconnect and delay <= 0:
            raise ValueError(
                "say how the call should fail: error_code, status, delay or disconnect"
            )
        fault = _Fault(error, status, delay, disconnect, times)
        self._faults.setdefault(method.lower(), deque()).append(fault)

    def clear_faults(self) -> None:
        """Forget every injected fault."""
        self._faults.clear()

    def set_global_rate_limit(self, per_second: float | None, *, window: float = 1.0) -> None:
        """Answer 429 with retry_after to sends beyond per_second over a sliding window."""
        self._global_limit = None if per_second is None else _Window(per_second, window)

    def set_chat_rate_limit(self, per_second: float | None, *, window: float = 1.0) -> None:
        """Limit sends per chat as well (Telegram allows about one message a second per chat)."""
        if per_second is not None:
            _Window(per_second, window)  # refuse a limit that admits nothing before it bites
        self._chat_limit = None if per_second is None else (per_second, window)
        self._chat_windows.clear()

    # -- HTTP --------------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        """Answer one HTTP request the way api.telegram.org does."""
        started = time.monotonic()
        path = request.path
        if path.startswith("/file/bot"):
            return self._serve_file(path)
        if not path.startswith("/bot"):
            return _error(ApiError(404, "Not Found"))
        token, _, method = path[4:].partition("/")
        if not method or "/" in method:
            return _error(ApiError(404, "Not Found"))
        key = method.lower()
        name = canonical_method(key) or method
        if token != self.token:
            self._record(name, started, 401, None, "Unauthorized", None)
            return _error(ApiError(401, "Unauthorized"))
        params: Params | None = None
        chat_id: int | str | None = None
        try:
            params = await self._read_params(request)
            chat_id = _chat_id(params)
            fault = self._take_fault(key)
            if fault is not None:
                response = await self._inject(fault, request)
                if response is not None:
                    self._record(name, started, response.status, chat_id, "injected", params)
                    return response
            self._admit(key, chat_id, started)
            if key == "getupdates":
                result = await self._get_updates(params)
            else:
                result = self.state.call(key, params)
                if key in {"setwebhook", "deletewebhook"}:
                    self._sync_webhook()
        except ApiError as error:
            self._record(name, started, error.code, chat_id, error.description, params)
            return _error(error)
        self._record(name, started, 200, chat_id, None, params)
        return _ok(result)

    async def _read_params(self, request: web.Request) -> Params:
        """Decode query, form, multipart or JSON parameters."""
        values: dict[str, Any] = dict(request.query) if request.query_string else {}
        files: dict[str, UploadPart] = {}
        if request.body_exists:
            content_type = request.content_type
            if content_type == _JSON:
                try:
                    body = await request.json()
                except ValueError:
                    raise ApiError(400, "Bad Request: can't parse JSON request body") from None
                if not isinstance(body, dict):
                    raise ApiError(400, "Bad Request: can't parse JSON request body")
                values.update(body)
            elif content_type.startswith("multipart/"):
                reader = await request.multipart()
                while (part := await reader.next()) is not None:
                    if not isinstance(part, BodyPartReader):
                        continue
                    data = bytes(await part.read())
                    if part.filename is not None:
                        content = part.headers.get("Content-Type")
                        files[part.name or ""] = UploadPart(part.filename, content, data)
                    else:
                        values[part.name or ""] = data.decode("utf-8", "replace")
            else:
                form = await request.post()
                values.update((k, v) for k, v in form.items() if isinstance(v, str))
        return Params(values, files)

    def _serve_file(self, path: str) -> web.Response:
        """Serve a file downloaded through a getFile path."""
        token, _, file_path = path.removeprefix("/file/bot").partition("/")
        if token != self.token:
            return _error(ApiError(401, "Unauthorized"))
        file_id = self.state.file_paths.get(file_path, "")
        uploaded = self.state.files.get(file_id)
        if uploaded is None or uploaded.data is None:
            return _error(ApiError(404, "Not Found"))
        return web.Response(
            body=uploaded.data, content_type=uploaded.mime_type or "application/octet-stream"
        )

    def _record(
        self,
        method: str,
        at: float,
        status: int,
        chat_id: int | str | None,
        description: str | None,
        params: Params | None,
    ) -> None:
        """Remember one call for api.calls."""
        kept: Mapping[str, Any] | None = None
        if self.retain_bodies and params is not None:
            kept = {**params.values, **params.files} if params.files else params.values
        self._calls.append(ApiCall(method, at, status, chat_id, description, kept))
        if status == 200:
            self._ok_counts[method] += 1

    # -- faults and limits -------------------------------------------------------------------

    def _take_fault(self, key: str) -> _Fault | None:
        """Return the fault for this call, if one is armed."""
        if not self._faults:
            return None
        for name in (key, "*"):
            queue = self._faults.get(name)
            if not queue:
                continue
            fault = queue[0]
            if fault.remaining is not None:
                fault.remaining -= 1
                if fault.remaining <= 0:
                    queue.popleft()
                    if not queue:
                        del self._faults[name]
            return fault
        return None

    async def _inject(self, fault: _Fault, request: web.Request) -> web.StreamResponse | None:
        """Play an injected fault; None means carry on with the real answer."""
        if fault.delay > 0:
            await self._sleep(fault.delay)
        if fault.disconnect:
            if request.transport is not None:
                request.transport.close()
            raise asyncio.CancelledError
        if fault.error is not None:
            return _error(fault.error)
        if fault.status is not None:
            reason = _DESCRIPTIONS.get(fault.status, "Error")
            page = f"<html><body><h1>{fault.status} {reason}</h1></body></html>"
            return web.Response(status=fault.status, text=page, content_type="text/html")
        return None

    def _admit(self, key: str, chat_id: int | str | None, now: float) -> None:
        """Apply the flood limits to a sending method, answering 429 beyond them."""
        if key not in SENDING_METHODS:
            return
        windows = []
        if self._global_limit is not None:
            windows.append(self._global_limit)
        if self._chat_limit is not None and chat_id is not None:
            window = self._chat_windows.get(chat_id)
            if window is None:
                self._forget_idle_chats(now)
                window = self._chat_windows[chat_id] = _Window(*self._chat_limit)
            windows.append(window)
        waits = [wait for window in windows if (wait := window.retry_after(now)) is not None]
        if waits:
            retry_after = max(waits)
            raise ApiError(429, f"Too Many Requests: retry after {retry_after}", retry_after)
        for window in windows:
            window.stamps.append(now)

    def _forget_idle_chats(self, now: float) -> None:
        """Drop per-chat windows with no recent sends once there are many (amortized O(1))."""
        if len(self._chat_windows) < self._chat_windows_cap:
            return
        self._chat_windows = {
            chat_id: window
            for chat_id, window in self._chat_windows.items()
            if window.stamps and now - window.stamps[-1] < window.seconds
        }
        self._chat_windows_cap = max(10_000, 2 * len(self._chat_windows))

    async def _sleep(self, seconds: float) -> None:
        """Sleep, waking early when the emulator closes."""
        assert self._closing is not None
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._closing.wait(), seconds)

    # -- updates -----------------------------------------------------------------------------

    async def _get_updates(self, params: Params) -> list[dict[str, Any]]:
        """Answer getUpdates with real long polling."""
        state = self.state
        if state.webhook is not None:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; use "
                "deleteWebhook to delete the webhook first",
            )
        if "allowed_updates" in params:
            state.set_allowed_updates(params.structure("allowed_updates"))
        state.confirm(params.integer("offset"))
        limit = min(max(params.integer("limit") or 100, 1), 100)
        timeout = max(params.number("timeout") or 0.0, 0.0)
        previous = self._poller
        if previous is not None and not previous.done():
            previous.set_result(True)
        updates = state.peek(limit)
        assert self._closing is not None and self._loop is not None
        if updates or timeout == 0 or self._closing.is_set():
            return updates
        poller: asyncio.Future[bool] = self._loop.create_future()
        self._poller = poller
        try:
            await asyncio.wait({poller}, timeout=timeout)
        finally:
            if self._poller is poller:
                self._poller = None
        if poller.done() and poller.result():
            raise ApiError(
                409,
                "Conflict: terminated by other getUpdates request; make sure that only one bot "
                "instance is running",
            )
        poller.cancel()
        return state.peek(limit)

    def _wake(self) -> None:
        """Tell a waiting long poll or the webhook sender that an update arrived."""
        loop = self._loop
        if loop is None:
            return
        if threading.get_ident() == self._loop_thread:
            self._wake_now()
        else:
            loop.call_soon_threadsafe(self._wake_now)

    def _wake_now(self) -> None:
        """Wake the waiters; must run on the emulator's loop."""
        poller = self._poller
        if poller is not None and not poller.done():
            poller.set_result(False)
        if self._webhook_event is not None:
            self._webhook_event.set()

    def _sync_webhook(self) -> None:
        """Start or stop delivering updates to the webhook."""
        if not self.deliver_webhooks:
            return
        if self.state.webhook is not None and (
            self._webhook_task is None or self._webhook_task.done()
        ):
            self._webhook_task = asyncio.get_running_loop().create_task(self._send_webhooks())
        self._wake_now()

    async def _send_webhooks(self) -> None:
        """POST pending updates to the webhook in order, retrying failures with backoff."""
        assert self._webhook_event is not None and self._closing is not None
        state = self.state
        backoff = 0.05
        timeout = aiohttp.ClientTimeout(total=10)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            while not self._closing.is_set():
                hook = state.webhook
                if hook is None:
                    return
                if not state.updates:
                    self._webhook_event.clear()
                    if not state.updates and state.webhook is hook:
                        await self._webhook_event.wait()
                    continue
                update = state.updates[0]
                headers = {}
                if hook.secret_token:
                    headers["X-Telegram-Bot-Api-Secret-Token"] = hook.secret_token
                error = None
                try:
                    async with session.post(hook.url, json=update, headers=headers) as response:
                        await response.read()
                        if not 200 <= response.status < 300:
                            error = (
                                f"Wrong response from the webhook: {response.status} "
                                f"{response.reason}"
                            )
                except aiohttp.ClientConnectorError:
                    error = "Connection refused"
                except (aiohttp.ClientError, TimeoutError) as exc:
                    error = f"Webhook delivery failed: {type(exc).__name__}"
                if error is None:
                    if state.updates and state.updates[0] is update:
                        state.updates.popleft()
                    self.webhook_deliveries += 1
                    backoff = 0.05
                else:
                    state.webhook_error = (state.now(), error)
                    await self._sleep(backoff)
                    backoff = min(backoff * 2, 1.0)


def _chat_id(params: Params) -> int | str | None:
    """Return the chat a call is about, for call records and per-chat limits."""
    value = params.values.get("chat_id")
    if value is None or value == "":
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return str(value)


def _ok(result: Any) -> web.Response:
    """Answer success."""
    body = json.dumps({"ok": True, "result": result}, separators=(",", ":"))
    return web.Response(body=body.encode(), content_type=_JSON)


def _error(error: ApiError) -> web.Response:
    """Answer a Bot API error with the matching HTTP status."""
    body = json.dumps(error.payload(), separators=(",", ":"))
    return web.Response(status=error.code, body=body.encode(), content_type=_JSON)
