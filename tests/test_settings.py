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
    with pytest.raises(ValidationError, match="is not a host, host:port"):
        load_settings(write_toml(tmp_path, ""))


@pytest.mark.parametrize(
    "entry",
    [
        "feeds.internal",
        "feeds.internal.",
        "feeds.internal:8080",
        "localhost:1",
        "127.0.0.1",
        "127.0.0.1:8080",
        "::1",
        "[::1]",
        "[::1]:8443",
        "[2001:db8::1]:65535",
        "10.0.0.0/8",
        "fd00::/8",
        "my_host",
    ],
)
def test_allow_hosts_accepts_host_port_and_bracketed_v6(
    no_secrets: Path, tmp_path: Path, entry: str
) -> None:
    assert load_settings(write_toml(tmp_path, ""), allow_hosts=[entry]).allow_hosts == [entry]


@pytest.mark.parametrize(
    "entry",
    [
        "bad host",
        "http://feeds.internal",
        "feeds.internal:",
        "feeds.internal:0",
        "feeds.internal:65536",
        "feeds.internal:http",
        "[::1",
        "[::1]8080",
        "[127.0.0.1]:80",
        "10.0.0",
        "300.1.1.1",
        "-bad.example",
        "a" * 64 + ".example",
        "10.0.0.0/33",
        "a:1:2",
    ],
)
def test_allow_hosts_refuses_garbage(no_secrets: Path, tmp_path: Path, entry: str) -> None:
    with pytest.raises(ValidationError, match="is not a host, host:port"):
        load_settings(write_toml(tmp_path, ""), allow_hosts=[entry])


def test_unknown_toml_keys_are_refused_with_the_closest_name(
    no_secrets: Path, tmp_path: Path
) -> None:
    with pytest.raises(ConfigError, match=r"unknown setting log_levl .*did you mean log_level\?"):
        load_settings(write_toml(tmp_path, 'log_levl = "DEBUG"\n'))
    with pytest.raises(ConfigError, match=r"unknown setting fetch.timeout .*fetch.timeout_seconds"):
        load_settings(write_toml(tmp_path, "[fetch]\ntimeout = 5\n"))
    with pytest.raises(ConfigError, match=r"unknown setting zzz .*valid here: database_url"):
        load_settings(write_toml(tmp_path, "zzz = 1\n"))


def test_malformed_toml_names_the_file_and_line(no_secrets: Path, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"newsbot.toml is not valid TOML .*line 2"):
        load_settings(write_toml(tmp_path, "[poll]\ninterval_seconds = = 5\n"))


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
