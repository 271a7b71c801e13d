"""Benchmark: N people with check-ins due at the same minute, sent against a local Bot API.

SQLite; the Bot API emulator runs in its own process (as Telegram would be elsewhere) with its
global flood limit set to the check-in rate limit, so any send over the limit would come back
as a 429. Prints the time to find who is due, messages per second against the limit, and the
bot process's peak memory.
Run: .venv/bin/python benchmarks/checkins.py [-n 100000] [--rate 2000]
(default rate: CHECKIN_RATE_LIMIT from the environment or .env; at 25/s, 100,000 take ~67 min)
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from sqlalchemy import insert
from telegram import Bot
from telegram.request import HTTPXRequest

from bot.checkins import IN_FLIGHT, CheckIns
from bot.config import Settings
from bot.crypto import Cipher, use_cipher
from bot.storage import checkins as storage
from bot.storage.models import CheckInSchedule, Person
from bot.storage.session import create_engine, session_factory, upgrade
from bot.words import words

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the emulator lives in the repo

TOKEN = "123456:BENCHMARK-TOKEN"
DUE = datetime(2026, 1, 13, 9, 0, tzinfo=UTC)
ZONES = ("UTC", "Europe/Berlin", "America/New_York", "Asia/Kathmandu", "Pacific/Honolulu")
INSERT_BATCH = 10_000


def _serve(connection: Connection, rate: float) -> None:
    """The emulator's process: serve until told to stop, then report what it saw."""
    os.environ["PTB_TIMEDELTA"] = "true"
    asyncio.run(_serve_async(connection, rate))


async def _serve_async(connection: Connection, rate: float) -> None:
    from emulator import BotApiEmulator

    async with BotApiEmulator(token=TOKEN, retain_bodies=False, auto_create_chats=True) as api:
        api.set_global_rate_limit(rate)
        connection.send(api.base_url)
        await asyncio.get_running_loop().run_in_executor(None, connection.recv)
        sends = [call for call in api.calls_to("sendMessage")]
        ok = sorted(call.at for call in sends if call.ok)
        busiest, start = 0, 0
        for end, moment in enumerate(ok):  # the most sends in any one-second window
            while moment - ok[start] >= 1.0:
                start += 1
            busiest = max(busiest, end - start + 1)
        connection.send(
            {
                "ok": len(ok),
                "flood": sum(1 for call in sends if call.status == 429),
                "busiest_second": busiest,
                "span": (ok[-1] - ok[0]) if len(ok) > 1 else 0.0,
            }
        )


async def _populate(database_url: str, people: int) -> None:
    """Insert `people` people whose check-in is due at DUE, spread over several time zones."""
    engine = create_engine(database_url)
    sessions = session_factory(engine)
    async with sessions.begin() as session:
        for first in range(0, people, INSERT_BATCH):
            ids = range(first, min(people, first + INSERT_BATCH))
            await session.execute(
                insert(Person),
                [{"id": i + 1, "telegram_id": 10_000_000 + i, "language": "en", "country": None,
                  "created_at": DUE - timedelta(days=30)} for i in ids],
            )  # fmt: skip
            rows = []
            for i in ids:
                zone = ZONES[i % len(ZONES)]
                local = DUE.astimezone(_tz(zone))
                rows.append(
                    {"person_id": i + 1, "enabled": True, "local_time": f"{local:%H:%M}",
                     "time_zone": zone, "silent": True, "next_due_at": DUE, "awaiting_tries": 0,
                     "updated_at": DUE - timedelta(days=1)}
                )  # fmt: skip
            await session.execute(insert(CheckInSchedule), rows)
    await engine.dispose()


def _tz(zone: str) -> Any:
    from bot.checkin_time import zone_of

    return zone_of(zone)


async def _measure(database_url: str, base_url: str, rate: float, people: int) -> dict[str, Any]:
    engine = create_engine(database_url)
    sessions = session_factory(engine)
    figures: dict[str, Any] = {}
    async with sessions() as session:
        began = time.perf_counter()
        due = await storage.find_due(session, DUE, None)
        figures["find_all"] = time.perf_counter() - began
        figures["found"] = len(due)
        del due
        began = time.perf_counter()
        await storage.find_due(session, DUE, max(10, min(500, int(rate))))
        figures["find_chunk"] = time.perf_counter() - began
    grace = timedelta(seconds=max(7200.0, 2 * people / rate))
    checkins = CheckIns(sessions, words(), rate_limit=rate, grace=grace)
    request = HTTPXRequest(connection_pool_size=IN_FLIGHT + 4)
    async with Bot(TOKEN, base_url=base_url, request=request) as bot:
        began = time.perf_counter()
        report = await checkins.send_due(bot, at=DUE)
        figures["elapsed"] = time.perf_counter() - began
    figures["report"] = report
    await engine.dispose()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-n", "--people", type=int, default=100_000)
    parser.add_argument("--rate", type=float, default=None, help="messages per second")
    args = parser.parse_args()
    rate = args.rate if args.rate is not None else Settings.load().checkin_rate_limit
    os.environ["PTB_TIMEDELTA"] = "true"
    use_cipher(Cipher.plaintext())  # no note is written here; nothing to encrypt

    context = multiprocessing.get_context("spawn")
    ours, theirs = context.Pipe()
    emulator = context.Process(target=_serve, args=(theirs, rate), daemon=True)
    emulator.start()
    if not ours.poll(60):
        raise SystemExit("the Bot API emulator did not start")
    base_url = ours.recv()
    try:
        with tempfile.TemporaryDirectory() as folder:
            database_url = f"sqlite:///{Path(folder) / 'bench.db'}"
            upgrade(database_url)
            began = time.perf_counter()
            asyncio.run(_populate(database_url, args.people))
            populated = time.perf_counter() - began
            figures = asyncio.run(_measure(database_url, base_url, rate, args.people))
    finally:
        ours.send("stop")
        seen = ours.recv()
        emulator.join(timeout=30)
    report = figures["report"]
    achieved = report.sent / figures["elapsed"]
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"people due at the same minute   {args.people:,} (set up in {populated:.1f} s)")
    print(f"find all due (one query)        {figures['find_all']:.3f} s for "
          f"{figures['found']:,} rows")  # fmt: skip
    print(f"find the next chunk             {figures['find_chunk'] * 1000:.1f} ms")
    print(f"sent                            {report.sent:,} in {figures['elapsed']:.1f} s "
          f"({report.describe()})")  # fmt: skip
    print(f"messages per second             {achieved:.1f} achieved / {rate:g} limit "
          f"= {100 * achieved / rate:.1f}%")  # fmt: skip
    print(f"Bot API saw                     {seen['ok']:,} sends, {seen['flood']} answered 429, "
          f"busiest second {seen['busiest_second']} (limit {rate:g})")  # fmt: skip
    print(f"peak memory (bot process RSS)   {peak:.0f} MB")


if __name__ == "__main__":
    main()
