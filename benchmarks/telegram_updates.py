"""Push a stream of updates through SafePlace and through a bare echo bot, in the same run.

Both run the real python-telegram-bot 22 Application with long polling against the local Bot
API emulator over HTTP. SafePlace runs everything it runs in production (handlers, safety
screen, conversation service, SQLite, encryption, delivery records); the echo bot replies with
the text it got. Each update in the stream gets exactly one reply from either bot, so per-update
latency is the time from the update entering the emulator to its reply arriving there.

Run: .venv/bin/python benchmarks/telegram_updates.py [--updates 2000] [--people 50]
Prints measured figures only.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import sys

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the emulator lives in the repo

from telegram import Update
from telegram.ext import Application, ApplicationBuilder, ContextTypes, MessageHandler, filters

from bot.app import build_application
from bot.config import Settings
from bot.crypto import generate_key
from emulator import BotApiEmulator

TOKEN = "123456:BENCHMARK-TOKEN"
TEXTS = (
    "hello",
    "i had a long day at work",
    "this commute is killing me",
    "can you remind me what this is",
    "my sister came over with the kids and it was lovely",
    "not sure what to do tonight, maybe a film",
)


async def _echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    if message is not None and message.text:
        await context.bot.send_message(message.chat_id, message.text)


def _echo_application(api: BotApiEmulator) -> Application:  # type: ignore[type-arg]
    application = ApplicationBuilder().token(TOKEN).base_url(api.base_url).build()
    application.add_handler(MessageHandler(filters.TEXT, _echo))
    return application


async def _run(
    name: str,
    make: Callable[[BotApiEmulator], Application],  # type: ignore[type-arg]
    prepare: Callable[[BotApiEmulator, list[int]], Awaitable[None]],
    updates: int,
    people: int,
) -> None:
    async with BotApiEmulator(token=TOKEN) as api:
        application = make(api)
        await application.initialize()
        if application.post_init is not None:
            await application.post_init(application)
        await application.start()
        assert application.updater is not None
        await application.updater.start_polling(poll_interval=0, timeout=5)
        ids = [10_000 + index for index in range(people)]
        await prepare(api, ids)
        users = [api.user(id=user_id, first_name="P", language_code="en") for user_id in ids]
        for user in users:
            user.skip_pending()
        chooser = random.Random(11)
        baseline = api.count("sendMessage")
        sent_at: dict[int, list[float]] = {user_id: [] for user_id in ids}
        began = time.perf_counter()
        for _ in range(updates):
            user = chooser.choice(users)
            sent_at[user.chat.id].append(time.monotonic())
            await user.send(chooser.choice(TEXTS))
        while api.count("sendMessage") - baseline < updates:
            await asyncio.sleep(0.005)
            if time.perf_counter() - began > 600:
                break
        elapsed = time.perf_counter() - began
        latencies: list[float] = []
        replies: dict[int, list[float]] = {user_id: [] for user_id in ids}
        for call in api.calls_to("sendMessage")[baseline:]:
            if call.chat_id in replies:
                replies[call.chat_id].append(call.at)
        for user_id in ids:
            latencies += [
                reply - sent
                for sent, reply in zip(sent_at[user_id], replies[user_id], strict=False)
            ]
        await application.updater.stop()
        await application.stop()
        if application.post_shutdown is not None:
            await application.post_shutdown(application)
        await application.shutdown()
    latencies.sort()
    p99 = latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))]
    print(
        f"{name:<10} {updates / elapsed:8.0f} updates/s   p50 {statistics.median(latencies) * 1000:7.1f} ms"
        f"   p99 {p99 * 1000:7.1f} ms   ({updates} updates, {len(ids)} people, {elapsed:.1f} s)"
    )


async def _no_preparation(api: BotApiEmulator, ids: list[int]) -> None:
    return None


async def _safeplace_people(api: BotApiEmulator, ids: list[int]) -> None:
    """Every person has started and chosen a language and country, as real people would."""
    for user_id in ids:
        user = api.user(id=user_id, first_name="P", language_code="en")
        await user.send_command("/start")
        await user.wait_for_messages(3, timeout=30)
        await user.press(user.bot_messages()[-1], "l:en")
        await user.wait_for_messages(2, timeout=30)
        await user.press(user.bot_messages()[-1], "k:GB")
        await user.wait_for_messages(2, timeout=30)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--updates", type=int, default=2000)
    parser.add_argument("--people", type=int, default=50)
    args = parser.parse_args()
    os.environ.setdefault("PTB_TIMEDELTA", "true")
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(
            telegram_bot_token=TOKEN,
            database_url=f"sqlite:///{Path(folder) / 'bench.db'}",
            encryption_key=generate_key(),
            flood_messages=10_000,
            send_rate_limit=0,  # the echo bot has no limiter either; Telegram's is 30/s for both
        )

        def safeplace(api: BotApiEmulator) -> Application:  # type: ignore[type-arg]
            return build_application(
                Settings(**{**settings.__dict__, "telegram_base_url": api.base_url})
            )

        print("one reply per update; same emulator, same machine, same run; no send-rate limit\n")
        await _run("echo bot", _echo_application, _no_preparation, args.updates, args.people)
        await _run("SafePlace", safeplace, _safeplace_people, args.updates, args.people)


if __name__ == "__main__":
    asyncio.run(main())
