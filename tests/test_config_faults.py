"""Config faults: one clear line on stderr starting "Error:", exit 1, no traceback, never the token."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.faults import CONFIG_FAULTS, ConfigFault, run_cli, run_config_fault


@pytest.mark.parametrize("fault", CONFIG_FAULTS, ids=[f.name for f in CONFIG_FAULTS])
def test_a_bad_config_gets_one_clear_line(fault: ConfigFault, tmp_path: Path) -> None:
    assert run_config_fault(fault, tmp_path) == []


def test_a_good_config_checks_ok(config_file: Path) -> None:
    result = run_cli(["--config", str(config_file), "check"], cwd=config_file.parent)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1].startswith("OK: config ")
    assert result.stderr == ""


def test_talksbot_config_is_used_without_config_option(config_file: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    result = run_cli(["check"], cwd=elsewhere, env={"TALKSBOT_CONFIG": str(config_file)})
    assert result.returncode == 0, result.stderr
    assert f"OK: config {config_file}" in result.stdout
