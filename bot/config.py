"""Settings, read once from the environment and a .env file."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

DEFAULT_BASE_URL = "https://api.telegram.org/bot"
DEFAULT_DATABASE_URL = "sqlite:///safeplace.db"
_YES = {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class Settings:
    """Everything SafePlace reads from its environment."""

    telegram_bot_token: str | None = None
    telegram_base_url: str = DEFAULT_BASE_URL
    database_url: str = DEFAULT_DATABASE_URL
    default_country: str | None = None
    log_level: str = "INFO"
    encryption_key: str | None = None
    allow_unencrypted: bool = False
    send_rate_limit: float = 30.0
    hide_message: str = "🌱"
    flood_messages: int = 12
    flood_seconds: float = 10.0
    safety_event_retention_days: int = 90
    conversation_retention_days: int = 90
    mood_retention_days: int = 365
    webhook_url: str | None = None
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = 8443
    webhook_secret: str | None = None
    checkin_rate_limit: float = 25.0
    checkin_grace_minutes: int = 120
    checkin_first_line: str | None = None
    checkin_pass_seconds: float = 60.0

    @classmethod
    def load(
        cls, environ: Mapping[str, str] | None = None, env_file: Path | None = Path(".env")
    ) -> Settings:
        """Read settings from a .env file, with the real environment taking precedence."""
        values: dict[str, str] = {}
        if env_file is not None and env_file.is_file():
            values.update(_read_env_file(env_file))
        values.update(os.environ if environ is None else environ)
        return cls(
            telegram_bot_token=values.get("TELEGRAM_BOT_TOKEN") or None,
            telegram_base_url=values.get("TELEGRAM_BASE_URL") or DEFAULT_BASE_URL,
            database_url=values.get("DATABASE_URL") or DEFAULT_DATABASE_URL,
            default_country=(values.get("DEFAULT_COUNTRY") or "").strip().upper() or None,
            log_level=(values.get("LOG_LEVEL") or "INFO").upper(),
            encryption_key=values.get("ENCRYPTION_KEY") or None,
            allow_unencrypted=(values.get("ALLOW_UNENCRYPTED") or "").lower() in _YES,
            send_rate_limit=float(values.get("SEND_RATE_LIMIT") or 30),
            hide_message=values.get("HIDE_MESSAGE") or "🌱",
            flood_messages=int(values.get("FLOOD_MESSAGES") or 12),
            flood_seconds=float(values.get("FLOOD_SECONDS") or 10),
            safety_event_retention_days=int(values.get("SAFETY_EVENT_RETENTION_DAYS") or 90),
            conversation_retention_days=int(values.get("CONVERSATION_RETENTION_DAYS") or 90),
            mood_retention_days=int(values.get("MOOD_RETENTION_DAYS") or 365),
            webhook_url=values.get("WEBHOOK_URL") or None,
            webhook_listen=values.get("WEBHOOK_LISTEN") or "127.0.0.1",
            webhook_port=int(values.get("WEBHOOK_PORT") or 8443),
            webhook_secret=values.get("WEBHOOK_SECRET") or None,
            checkin_rate_limit=float(values.get("CHECKIN_RATE_LIMIT") or 25),
            checkin_grace_minutes=int(values.get("CHECKIN_GRACE_MINUTES") or 120),
            checkin_first_line=values.get("CHECKIN_FIRST_LINE") or None,
            checkin_pass_seconds=float(values.get("CHECKIN_PASS_SECONDS") or 60),
        )


def _read_env_file(path: Path) -> dict[str, str]:
    """Parse KEY=VALUE lines; blank lines and # comments are skipped."""
    values: dict[str, str] = {}
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        key = key.strip().removeprefix("export ").strip()
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[key] = value
    return values
