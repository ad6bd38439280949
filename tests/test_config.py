"""config.yaml: validation, defaults and relative paths."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import config_path, load_config
from bot.errors import ConfigError
from tests.common import REPO


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_shipped_config_loads_with_its_corpus(tmp_path: Path) -> None:
    config = load_config(REPO / "config.yaml")
    assert config.corpus.path == (REPO / "corpus").resolve()
    assert config.answer.excerpt_chars == 500


def test_relative_paths_are_taken_from_the_config_folder(tmp_path: Path) -> None:
    config = load_config(_write(tmp_path, "corpus:\n  path: articles\n"))
    assert config.corpus.path == (tmp_path / "articles").resolve()
    assert config.telegram.feedback_path == (tmp_path / "feedback.jsonl").resolve()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("corpus:\n  pth: x\n", "unknown config key 'corpus.pth'"),
        ("answers: {}\n", "unknown config key 'answers'"),
        ("answer:\n  excerpt_chars: 600\n", "'answer.excerpt_chars' must be between 50 and 500"),
        ("answer:\n  excerpt_chars: many\n", "'answer.excerpt_chars' must be a whole number"),
        ("answer:\n  semantic: maybe\n", "'answer.semantic' must be one of auto, on, off"),
        ("telegram:\n  admins: [alice]\n", "'telegram.admins' must be a list of numeric Telegram user ids"),
        ("telegram:\n  api_base_url: ftp://x\n", "'telegram.api_base_url' must be an http(s) URL"),
        ("logging:\n  level: LOUD\n", "'logging.level' must be"),
        ("- a\n- b\n", "must be a mapping"),
        ("corpus: [\n", "not valid YAML"),
    ],
)
def test_bad_config_names_the_key(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=None) as caught:
        load_config(_write(tmp_path, text))
    assert message in str(caught.value)


def test_token_pasted_into_config_is_refused(tmp_path: Path) -> None:
    token = "1234567" + "89:" + "A" * 35
    with pytest.raises(ConfigError, match="TELEGRAM_BOT_TOKEN"):
        load_config(_write(tmp_path, f"telegram:\n  token_here: '{token}'\n"))


def test_config_path_prefers_flag_then_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TALKSBOT_CONFIG", str(tmp_path / "env.yaml"))
    assert config_path("flag.yaml") == Path("flag.yaml")
    assert config_path(None) == tmp_path / "env.yaml"
    monkeypatch.delenv("TALKSBOT_CONFIG")
    monkeypatch.chdir(tmp_path)
    assert config_path(None) is None


def test_config_is_frozen() -> None:
    config = load_config(None)
    with pytest.raises(AttributeError):
        config.answer.excerpt_chars = 10  # type: ignore[misc]
