"""Key rotation: re-encrypt every EncryptedText value with the newest key (`safeplace keys rotate`).

The columns are found in the models' metadata, so a new encrypted column is rotated without
touching this module. Values are read and written as raw tokens (never decrypted into the
session), a batch of rows per transaction, and each row is written only if it still holds
the token that was read: a bot running meanwhile writes with the newest key itself, and its
newer value is never overwritten with an older one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Column, MetaData, Table, Text, bindparam, inspect, select, type_coerce
from sqlalchemy import update as update_statement
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.crypto import PLAINTEXT_PREFIX, Cipher, DecryptionFailed, EncryptedText
from bot.storage.models import Base

logger = logging.getLogger(__name__)

BATCH_SIZE = 500


@dataclass
class ColumnReport:
    """What rotation did to one encrypted column; counts only, never values."""

    table: str
    column: str
    present: bool = True  # False when the database has no such table yet
    read: int = 0
    rotated: int = 0  # written again with the newest key
    from_plain: int = 0  # of those, development rows stored unencrypted ("plain:")
    current: int = 0  # already written with the newest key
    changed: int = 0  # rewritten by someone else meanwhile (they used the newest key)
    unreadable: int = 0  # no configured key reads it: left as it is

    @property
    def name(self) -> str:
        return f"{self.table}.{self.column}"

    def describe(self) -> str:
        """Return one line for the command's output."""
        if not self.present:
            return f"{self.name}: no such table in this database (not migrated yet), skipped"
        line = (
            f"{self.name}: {self.read} read, {self.rotated} re-encrypted "
            f"({self.from_plain} were unencrypted), {self.current} already current"
        )
        if self.changed:
            line += f", {self.changed} changed meanwhile"
        if self.unreadable:
            line += f", {self.unreadable} UNREADABLE with every configured key (left as they are)"
        return line


def encrypted_columns(metadata: MetaData = Base.metadata) -> list[Column[Any]]:
    """Return every EncryptedText column of the models, in table order."""
    return [
        column
        for table in metadata.sorted_tables
        for column in table.columns
        if isinstance(column.type, EncryptedText)
    ]


async def rotate(
    engine: AsyncEngine,
    cipher: Cipher,
    batch_size: int = BATCH_SIZE,
    columns: Sequence[Column[Any]] | None = None,
    progress: Callable[[ColumnReport], None] | None = None,
) -> list[ColumnReport]:
    """Re-encrypt every value of the encrypted columns with the cipher's newest key.

    `progress` is called after each batch with the column's counts so far.
    """
    if cipher.is_plaintext:
        raise ValueError("rotation needs ENCRYPTION_KEY: there is no key to encrypt with")
    if batch_size < 1:
        raise ValueError("the batch size must be at least 1")
    reports = []
    for column in encrypted_columns() if columns is None else columns:
        report = await _rotate_column(engine, cipher, column, batch_size, progress)
        logger.info(
            "rotated %s: read=%d rotated=%d current=%d unreadable=%d",
            report.name, report.read, report.rotated, report.current, report.unreadable,
        )  # fmt: skip
        reports.append(report)
    return reports


async def _rotate_column(
    engine: AsyncEngine,
    cipher: Cipher,
    column: Column[Any],
    batch_size: int,
    progress: Callable[[ColumnReport], None] | None,
) -> ColumnReport:
    table = column.table
    assert isinstance(table, Table)
    report = ColumnReport(table.name, column.name)
    async with engine.connect() as connection:
        report.present = await _has_table(connection, table.name)
    if not report.present:
        return report
    keys = list(table.primary_key.columns)
    if len(keys) != 1:
        raise ValueError(f"{table.name} needs a single-column primary key to be rotated")
    key = keys[0]
    # Read and compare the stored token as plain text: EncryptedText would decrypt it, and it
    # refuses comparisons (which is right everywhere else).
    token = type_coerce(column, Text)
    write = (
        update_statement(table)
        .where(key == bindparam("_key"), token == bindparam("_old", type_=Text))
        .values({column.name: bindparam("_new", type_=Text)})
    )
    last: Any = None
    while True:
        query = select(key, token).where(token.is_not(None)).order_by(key).limit(batch_size)
        if last is not None:
            query = query.where(key > last)
        # Read, then write in a transaction of its own: a read snapshot held open across the
        # writes would make SQLite refuse them once the bot has written meanwhile.
        async with engine.connect() as connection:
            rows = (await connection.execute(query)).all()
        planned = []
        for row_key, stored in rows:
            report.read += 1
            if not cipher.needs_rotation(stored):
                report.current += 1
                continue
            try:
                planned.append({"_key": row_key, "_old": stored, "_new": cipher.rotate(stored)})
            except DecryptionFailed:
                report.unreadable += 1
        if planned:
            async with engine.begin() as connection:
                for values in planned:
                    result = await connection.execute(write, values)
                    if result.rowcount:
                        report.rotated += 1
                        report.from_plain += values["_old"].startswith(PLAINTEXT_PREFIX)
                    else:
                        report.changed += 1
        if progress is not None and rows:
            progress(report)
        if len(rows) < batch_size:
            return report
        last = rows[-1][0]


async def _has_table(connection: AsyncConnection, name: str) -> bool:
    return await connection.run_sync(lambda sync: inspect(sync).has_table(name))
