"""Shared fixtures: services on a fresh SQLite file, or on PostgreSQL when one is configured."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from bot.config import Settings
from bot.crypto import generate_key
from bot.services import Services
from bot.storage.session import async_url, upgrade

POSTGRES_URL = os.environ.get("SAFEPLACE_TEST_DATABASE_URL")


TEST_KEY = generate_key()


def sqlite_settings(tmp_path: Path) -> Settings:
    return Settings(database_url=f"sqlite:///{tmp_path / 'safeplace.db'}", encryption_key=TEST_KEY)


@pytest.fixture
def sqlite_settings_at(tmp_path: Path) -> Settings:
    """Settings for an embedded database in this test's own folder."""
    return sqlite_settings(tmp_path)


@pytest.fixture
async def services(tmp_path: Path) -> AsyncIterator[Services]:
    started = await Services.start(sqlite_settings(tmp_path))
    yield started
    await started.close()


async def reset_postgres(url: str) -> None:
    """Drop everything SafePlace created, so each PostgreSQL test starts from nothing."""
    engine = create_async_engine(async_url(url))
    async with engine.begin() as connection:
        await connection.execute(text("DROP SCHEMA public CASCADE"))
        await connection.execute(text("CREATE SCHEMA public"))
    await engine.dispose()


@pytest.fixture
async def postgres_url() -> AsyncIterator[str]:
    if not POSTGRES_URL:
        pytest.skip("SAFEPLACE_TEST_DATABASE_URL is not set: no PostgreSQL to test against")
    await reset_postgres(POSTGRES_URL)
    await asyncio.to_thread(upgrade, POSTGRES_URL)
    yield POSTGRES_URL
    await reset_postgres(POSTGRES_URL)
