"""config.yaml: loaded once into a frozen, validated object; an unknown key is an error naming it."""

from __future__ import annotations

import dataclasses
import os
import re
import reprlib
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bot.errors import ConfigError
from bot.knowledge import PUBLISHER_LIMIT, SEMANTIC_MODES, Settings

DEFAULT_API_BASE_URL = "https://api.telegram.org/bot"
DEFAULT_API_FILE_URL = "https://api.telegram.org/file/bot"
_TOKEN_SHAPE = re.compile(r"\b\d{6,12}:[A-Za-z0-9_-]{30,}\b")
# Error messages quote the offending value, cut short (a long string, a YAML alias bomb).
_SHORT_REPR = reprlib.Repr()
_SHORT_REPR.maxlevel, _SHORT_REPR.maxstring, _SHORT_REPR.maxother = 2, 60, 60
_SHORT_REPR.maxlist = _SHORT_REPR.maxdict = 5


@dataclass(frozen=True)
class CorpusConfig:
    """Where the articles live, and where their index is cached."""

    path: Path = Path("corpus")
    cache: str = ".talksbot-cache"  # relative: inside the corpus folder; "": no cache (see bot.cache)

    @property
    def cache_dir(self) -> Path | None:
        """The index cache folder as bot.library.Library takes it (None: no cache)."""
        return Path(self.cache).expanduser() if self.cache.strip() else None


@dataclass(frozen=True)
class WebhookConfig:
    """Receive updates on a web server instead of long polling (off unless `url` is set)."""

    url: str = ""  # the public HTTPS address Telegram posts to; empty means long polling
    listen: str = "127.0.0.1"
    port: int = 8443
    path: str = "telegram"
    secret_token: str = ""  # also read from TELEGRAM_WEBHOOK_SECRET


@dataclass(frozen=True)
class TelegramConfig:
    """The Telegram adapter; the bot token comes from TELEGRAM_BOT_TOKEN, never from here."""

    api_base_url: str = DEFAULT_API_BASE_URL
    # Where files sent to the bot are downloaded from (the token and getFile's file_path follow it).
    # When api_base_url is set and this is not, it follows it (https://host/bot -> https://host/file/bot).
    api_file_url: str = DEFAULT_API_FILE_URL
    # Largest document an admin may send to import (Telegram's own download limit is 20 MB).
    max_document_bytes: int = 5 * 1024 * 1024
    admins: tuple[int, ...] = ()
    feedback_path: Path = Path("feedback.jsonl")
    rate_limit_per_minute: int = 20
    # Telegram's bulk limit is about 30 messages a second; raise it only for paid broadcasts or a
    # self-hosted test server (the end-to-end tests do).
    messages_per_second: int = 30
    webhook: WebhookConfig = field(default_factory=WebhookConfig)


@dataclass(frozen=True)
class ImportConfig:
    """Import of articles from the web (`talksbot import URL`, /add URL on Telegram)."""

    # Loopback, private, link-local and other non-public addresses are refused unless this is set
    # (tests, an intranet news site): otherwise the bot could be used to probe the operator's network.
    allow_private_addresses: bool = False
    max_bytes: int = 5 * 1024 * 1024  # largest page downloaded; reading stops past it
    timeout_seconds: int = 20  # for the whole download, redirects included


@dataclass(frozen=True)
class LoggingConfig:
    """Log verbosity for the whole program."""

    level: str = "INFO"


@dataclass(frozen=True)
class Config:
    """The whole configuration."""

    corpus: CorpusConfig = field(default_factory=CorpusConfig)
    answer: Settings = field(default_factory=Settings)
    telegram: TelegramConfig = field(default_factory=TelegramConfig)
    import_: ImportConfig = field(default_factory=ImportConfig, metadata={"key": "import"})
    logging: LoggingConfig = field(default_factory=LoggingConfig)
    source: Path | None = None


def file_url_for(api_base_url: str) -> str:
    """The file download address that goes with an API address (https://host/bot -> https://host/file/bot)."""
    return re.sub(r"/bot(?=\{token\}|$)", "/file/bot", api_base_url)


def config_path(explicit: str | None) -> Path | None:
    """Return the config file to read: --config, else $TALKSBOT_CONFIG, else ./config.yaml if present."""
    if explicit:
        return Path(explicit)
    if os.environ.get("TALKSBOT_CONFIG"):
        return Path(os.environ["TALKSBOT_CONFIG"])
    default = Path("config.yaml")
    return default if default.exists() else None


def load_config(path: Path | None) -> Config:
    """Read and validate a config file (None: all defaults, paths relative to the current folder)."""
    if path is None:
        return Config()
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read config {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"config {path} is not UTF-8 text (byte {exc.start})") from None
    # Before parsing, so no YAML error message can ever quote the token back.
    if _TOKEN_SHAPE.search(text):
        raise ConfigError(
            f"config {path} holds what looks like a bot token: remove it and set TELEGRAM_BOT_TOKEN instead"
        )
    try:
        data = yaml.safe_load(text)
    except (yaml.YAMLError, ValueError) as exc:  # ValueError: a bad date like 2022-13-45
        raise ConfigError(f"config {path} is not valid YAML: {exc}".splitlines()[0]) from None
    except RecursionError:
        raise ConfigError(f"config {path} is not valid YAML: nested too deeply") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"config {path} must be a mapping of sections (corpus:, answer:, telegram:)")
    config = _build(Config, data, "", path.parent)
    telegram = data.get("telegram")
    # A self-hosted Bot API server serves files too: api_file_url follows api_base_url unless set.
    if isinstance(telegram, dict) and "api_file_url" not in telegram and "api_base_url" in telegram:
        derived = file_url_for(config.telegram.api_base_url)
        config = dataclasses.replace(config, telegram=dataclasses.replace(config.telegram, api_file_url=derived))
    return dataclasses.replace(_anchor_defaults(config, path.parent), source=path)


def _anchor_defaults(config: Config, base: Path) -> Config:
    """Resolve default (relative) paths against the config file's folder, as set ones are."""
    corpus = dataclasses.replace(config.corpus, path=(base / config.corpus.path).resolve())
    telegram = dataclasses.replace(config.telegram, feedback_path=(base / config.telegram.feedback_path).resolve())
    answer = config.answer
    if answer.model.strip():
        answer = dataclasses.replace(answer, model=str((base / Path(answer.model).expanduser()).resolve()))
    return dataclasses.replace(config, corpus=corpus, telegram=telegram, answer=answer)


def _build(cls: type[Any], data: Any, prefix: str, base: Path) -> Any:
    """Build a config dataclass from a mapping, naming the dotted key of any problem."""
    if not isinstance(data, dict):
        raise ConfigError(f"'{prefix.rstrip('.') or 'config'}' must be a mapping")
    hints = typing.get_type_hints(cls)
    # A field whose key is a Python keyword ("import") is named with a trailing "_" and says its key.
    fields = {f.metadata.get("key", f.name): f.name for f in dataclasses.fields(cls) if f.name != "source"}
    values: dict[str, Any] = {}
    for key, raw in data.items():
        name = f"{prefix}{key}"
        if key not in fields:
            raise ConfigError(f"unknown config key '{name}' (known: {', '.join(sorted(fields))})")
        values[fields[key]] = _value(hints[fields[key]], raw, name, base)
    built = cls(**values)
    _check(built, prefix)
    return built


def _value(hint: Any, raw: Any, name: str, base: Path) -> Any:
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return _build(hint, raw if raw is not None else {}, f"{name}.", base)
    if hint is Path:
        if not isinstance(raw, str) or not raw.strip():
            raise ConfigError(f"'{name}' must be a path, not {_show(raw)}")
        return (base / raw).resolve()
    if hint is bool:
        if not isinstance(raw, bool):
            raise ConfigError(f"'{name}' must be true or false, not {_show(raw)}")
        return raw
    if hint is int:
        if isinstance(raw, bool) or not isinstance(raw, int):
            raise ConfigError(f"'{name}' must be a whole number, not {_show(raw)}")
        return raw
    if hint is float:
        if isinstance(raw, bool) or not isinstance(raw, (int, float)):
            raise ConfigError(f"'{name}' must be a number, not {_show(raw)}")
        return float(raw)
    if hint is str:
        if not isinstance(raw, str):
            raise ConfigError(f"'{name}' must be text, not {_show(raw)}")
        return raw
    origin = typing.get_origin(hint)
    if origin is tuple:
        if raw is None:
            return ()
        if not isinstance(raw, list) or not all(isinstance(v, int) and not isinstance(v, bool) for v in raw):
            raise ConfigError(f"'{name}' must be a list of numeric Telegram user ids, not {_show(raw)}")
        return tuple(raw)
    if origin in (typing.Union, types.UnionType):
        raise ConfigError(f"'{name}' cannot be set")  # pragma: no cover - no such keys today
    raise ConfigError(f"'{name}' has an unsupported type")  # pragma: no cover


def _show(value: Any) -> str:
    """Return a short one-line repr of a config value for an error message."""
    return _SHORT_REPR.repr(value)


def _check(built: Any, prefix: str) -> None:
    """Range checks that the types alone do not express."""
    if isinstance(built, Settings):
        if not 50 <= built.excerpt_chars <= PUBLISHER_LIMIT:
            raise ConfigError(
                f"'{prefix}excerpt_chars' must be between 50 and {PUBLISHER_LIMIT} (the publisher's limit), "
                f"not {built.excerpt_chars}"
            )
        if built.semantic not in SEMANTIC_MODES:
            raise ConfigError(f"'{prefix}semantic' must be one of {', '.join(SEMANTIC_MODES)}, not {built.semantic!r}")
        for key in ("candidates", "suggestions", "max_question_chars"):
            if getattr(built, key) < 1:
                raise ConfigError(f"'{prefix}{key}' must be at least 1")
    if isinstance(built, TelegramConfig):
        if not re.fullmatch(r"https?://\S+", built.api_base_url):
            raise ConfigError(f"'{prefix}api_base_url' must be an http(s) URL, not {built.api_base_url!r}")
        if not re.fullmatch(r"https?://\S+", built.api_file_url):
            raise ConfigError(f"'{prefix}api_file_url' must be an http(s) URL, not {built.api_file_url!r}")
        if not 1024 <= built.max_document_bytes <= 20 * 1024 * 1024:
            raise ConfigError(
                f"'{prefix}max_document_bytes' must be between 1024 and 20 MB (Telegram's limit), "
                f"not {built.max_document_bytes}"
            )
        if built.rate_limit_per_minute < 1:
            raise ConfigError(f"'{prefix}rate_limit_per_minute' must be at least 1")
        if not 1 <= built.messages_per_second <= 1000:
            raise ConfigError(
                f"'{prefix}messages_per_second' must be between 1 and 1000, not {built.messages_per_second}"
            )
    if isinstance(built, WebhookConfig):
        if not 1 <= built.port <= 65535:
            raise ConfigError(f"'{prefix}port' must be a port number (1-65535), not {built.port}")
        if built.url and not built.url.startswith("https://") and not built.url.startswith("http://127."):
            raise ConfigError(f"'{prefix}url' must be an https:// address, not {built.url!r}")
        if built.secret_token and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", built.secret_token):
            raise ConfigError(f"'{prefix}secret_token' may only hold letters, digits, '_' and '-' (at most 256)")
        if not re.fullmatch(r"[A-Za-z0-9_./-]*", built.path):
            raise ConfigError(f"'{prefix}path' must be a URL path like 'telegram', not {built.path!r}")
    if isinstance(built, ImportConfig):
        if not 1024 <= built.max_bytes <= 50 * 1024 * 1024:
            raise ConfigError(f"'{prefix}max_bytes' must be between 1024 and 50 MB, not {built.max_bytes}")
        if not 1 <= built.timeout_seconds <= 300:
            raise ConfigError(f"'{prefix}timeout_seconds' must be between 1 and 300, not {built.timeout_seconds}")
    if isinstance(built, LoggingConfig) and built.level.upper() not in ("DEBUG", "INFO", "WARNING", "ERROR"):
        raise ConfigError(f"'{prefix}level' must be DEBUG, INFO, WARNING or ERROR, not {built.level!r}")
