"""Settings precedence (TOML < environment < /run/secrets < arguments) and secret masking."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from bot.core.errors import ConfigError
from bot.settings import Settings, load_settings, mask_url_password, masked


@pytest.fixture
def no_secrets(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """An empty secrets folder in place of /run/secrets."""
    folder = tmp_path / "secrets"
    folder.mkdir()
    monkeypatch.setattr(Settings, "secrets_path", folder)
    return folder


def write_toml(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "newsbot.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_need_no_configuration(no_secrets: Path, tmp_path: Path) -> None:
    settings = load_settings(write_toml(tmp_path, ""))
    assert settings.database_url == "sqlite+aiosqlite:///data/newsbot.db"
    assert settings.allow_hosts == []
    assert settings.chat_configured is False


def test_precedence_toml_env_secrets(
    no_secrets: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    toml = write_toml(
        tmp_path, "log_level = 'DEBUG'\n[poll]\ninterval_seconds = 120\nconcurrency = 7\n"
    )
    monkeypatch.setenv("NEWSBOT_POLL__INTERVAL_SECONDS", "300")
    monkeypatch.setenv("NEWSBOT_DISCORD__TOKEN", "from-env")
    (no_secrets / "NEWSBOT_DISCORD__TOKEN").write_text("from-secret\n", encoding="utf-8")
    settings = load_settings(toml)
    assert settings.log_level == "DEBUG"
    assert settings.poll.concurrency == 7
    assert settings.poll.interval_seconds == 300
    assert settings.discord.token is not None
    assert settings.discord.token.get_secret_value() == "from-secret"
    assert load_settings(toml, log_level="ERROR").log_level == "ERROR"


def test_allow_hosts_contract_is_comma_separated(
    no_secrets: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NEWSBOT_ALLOW_HOSTS", " 127.0.0.1, 10.0.0.0/8 ,feeds.internal,")
    assert load_settings(write_toml(tmp_path, "")).allow_hosts == [
        "127.0.0.1",
        "10.0.0.0/8",
        "feeds.internal",
    ]
    monkeypatch.setenv("NEWSBOT_ALLOW_HOSTS", "10.0.0.0/33")
    with pytest.raises(ValidationError, match="not a valid CIDR"):
        load_settings(write_toml(tmp_path, ""))


def test_database_url_contract(
    no_secrets: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NEWSBOT_DATABASE_URL", "postgresql+asyncpg://bot:s3cret@db:5432/newsbot")
    settings = load_settings(write_toml(tmp_path, ""))
    assert settings.database_url.startswith("postgresql+asyncpg://")
    monkeypatch.setenv("NEWSBOT_DATABASE_URL", "mysql://x")
    with pytest.raises(ValidationError, match="database_url"):
        load_settings(write_toml(tmp_path, ""))


def test_masked_hides_tokens_and_database_password(no_secrets: Path, tmp_path: Path) -> None:
    settings = load_settings(
        write_toml(tmp_path, ""),
        database_url="postgresql+asyncpg://bot:s3cret@db:5432/newsbot",
        discord={"token": "tok-123"},
    )
    text = str(masked(settings))
    assert "s3cret" not in text
    assert "tok-123" not in text
    assert "tok-123" not in repr(settings)
    assert mask_url_password("postgresql+asyncpg://u:p@h/d") == "postgresql+asyncpg://u:***@h/d"


def test_missing_config_file_is_a_clear_error(no_secrets: Path, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_settings(tmp_path / "nope.toml")


def test_slack_token_needs_a_transport(no_secrets: Path, tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="needs slack"):
        load_settings(write_toml(tmp_path, ""), slack={"bot_token": "xoxb-1"})


def test_shipped_config_file_lists_valid_settings(no_secrets: Path) -> None:
    shipped = Path(__file__).resolve().parents[1] / "config" / "newsbot.toml"
    assert load_settings(shipped).poll.interval_seconds == 900
