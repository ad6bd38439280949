"""The config keys of the importer and of Telegram file downloads: defaults, validation, derivation."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import load_config
from bot.errors import ConfigError


def test_defaults_refuse_private_addresses_and_use_telegrams_file_server(tmp_path: Path) -> None:
    config = load_config(None)
    assert config.import_.allow_private_addresses is False
    assert config.telegram.api_file_url == "https://api.telegram.org/file/bot"
    assert config.import_.max_bytes == 5 * 1024 * 1024 and config.import_.timeout_seconds == 20


def test_import_section_is_read(tmp_path: Path) -> None:
    config = load_config(_write(tmp_path, "import:\n  allow_private_addresses: true\n  max_bytes: 20000\n"))
    assert config.import_.allow_private_addresses is True and config.import_.max_bytes == 20000


def test_file_url_follows_a_self_hosted_api_unless_set(tmp_path: Path) -> None:
    config = load_config(_write(tmp_path, "telegram:\n  api_base_url: http://127.0.0.1:8081/bot\n"))
    assert config.telegram.api_file_url == "http://127.0.0.1:8081/file/bot"
    config = load_config(
        _write(tmp_path, "telegram:\n  api_base_url: http://a.example/bot\n  api_file_url: http://b.example/f/bot\n")
    )
    assert config.telegram.api_file_url == "http://b.example/f/bot"


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("import:\n  allow_private_addresses: yes please\n", "'import.allow_private_addresses' must be true or false"),
        ("import:\n  allow_private: true\n", "unknown config key 'import.allow_private'"),
        ("import:\n  max_bytes: 10\n", "'import.max_bytes' must be between"),
        ("import:\n  timeout_seconds: 0\n", "'import.timeout_seconds' must be between 1 and 300"),
        ("import: [1]\n", "'import' must be a mapping"),
        ("telegram:\n  api_file_url: ftp://x\n", "'telegram.api_file_url' must be an http(s) URL"),
        ("telegram:\n  max_document_bytes: 999999999\n", "'telegram.max_document_bytes' must be between"),
    ],
)
def test_bad_values_are_named(tmp_path: Path, text: str, words: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(_write(tmp_path, text))
    assert words in str(caught.value)


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    return path
