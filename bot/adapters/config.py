"""Configuration, read once at start from flags and environment variables."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from backchain.bot.errors import BackchainError

DEFAULT_DB = "backchain.db"


@dataclass(frozen=True)
class Settings:
    token: str | None = field(default=None, repr=False)  # never printed or logged
    db_path: str = DEFAULT_DB
    api_url: str | None = None
    content_dir: Path | None = None
    webhook_url: str | None = None
    webhook_secret: str | None = field(default=None, repr=False)
    listen: str = "0.0.0.0"
    port: int = 8443
    files_dir: Path | None = None
    reminder_tick_seconds: float = 30.0
    timer_scale: float = 1.0  # < 1 makes session timers fire sooner (demos and tests)
    clock_file: Path | None = None  # a file holding the time to use (demos and tests)
    metrics_port: int | None = None  # Prometheus metrics, off unless a port is given
    metrics_address: str = "127.0.0.1"
    json_logs: bool = False  # one JSON object a line, for log collectors
    send_max_wait: float = 120.0  # total seconds a reply may wait out Telegram's 429s
    send_retry_seconds: float = 30.0  # total seconds of retries on 5xx, timeouts, network errors
    send_timeout: float = 20.0  # seconds to wait for Telegram to answer one send
    bulk_per_second: float = 20.0  # share of Telegram's 30 messages a second left to reminders
    webhook_max_bytes: int = 1_000_000  # larger webhook bodies are refused unread
    db_patience: float = 30.0  # seconds one input waits for a database another process locked


def read_token(token_file: str | None, env: Mapping[str, str]) -> str | None:
    """The bot token from --token-file or TELEGRAM_BOT_TOKEN; None when neither is given."""
    if token_file:
        try:
            token = Path(token_file).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise BackchainError(f"cannot read token file {token_file}: {exc.strerror}") from exc
        if not token:
            raise BackchainError(f"token file {token_file} is empty")
        return token
    return env.get("TELEGRAM_BOT_TOKEN", "").strip() or None


def settings_from(
    *,
    token_file: str | None = None,
    db: str | None = None,
    api_url: str | None = None,
    content_dir: str | None = None,
    webhook_url: str | None = None,
    listen: str | None = None,
    port: int | None = None,
    env: Mapping[str, str] | None = None,
) -> Settings:
    """Merge flags over environment variables into frozen settings."""
    env = os.environ if env is None else env
    tick = env.get("BACKCHAIN_REMINDER_TICK", "")
    metrics_port = env.get("BACKCHAIN_METRICS_PORT", "").strip()
    return Settings(
        token=read_token(token_file, env),
        db_path=db or env.get("BACKCHAIN_DB") or DEFAULT_DB,
        api_url=api_url or env.get("BACKCHAIN_API_URL") or None,
        content_dir=Path(content_dir) if content_dir else None,
        webhook_url=webhook_url or env.get("BACKCHAIN_WEBHOOK_URL") or None,
        webhook_secret=env.get("BACKCHAIN_WEBHOOK_SECRET") or None,
        listen=listen or env.get("BACKCHAIN_LISTEN") or "0.0.0.0",
        port=port or int(env.get("BACKCHAIN_PORT") or 8443),
        files_dir=Path(env["BACKCHAIN_FILES_DIR"]) if env.get("BACKCHAIN_FILES_DIR") else None,
        reminder_tick_seconds=float(tick) if tick else 30.0,
        timer_scale=float(env.get("BACKCHAIN_TIMER_SCALE") or 1.0),
        clock_file=Path(env["BACKCHAIN_CLOCK_FILE"]) if env.get("BACKCHAIN_CLOCK_FILE") else None,
        metrics_port=int(metrics_port) if metrics_port else None,
        metrics_address=env.get("BACKCHAIN_METRICS_ADDRESS") or "127.0.0.1",
        json_logs=env.get("BACKCHAIN_LOG_FORMAT", "").strip().lower() == "json",
        send_max_wait=float(env.get("BACKCHAIN_SEND_MAX_WAIT") or 120.0),
        send_retry_seconds=float(env.get("BACKCHAIN_SEND_RETRY_SECONDS") or 30.0),
        send_timeout=float(env.get("BACKCHAIN_SEND_TIMEOUT") or 20.0),
        bulk_per_second=float(env.get("BACKCHAIN_BULK_PER_SECOND") or 20.0),
        webhook_max_bytes=int(env.get("BACKCHAIN_WEBHOOK_MAX_BYTES") or 1_000_000),
        db_patience=float(env.get("BACKCHAIN_DB_PATIENCE") or 30.0),
    )
