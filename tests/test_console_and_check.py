"""The console as a new user meets it (in a terminal), and `check` naming its config."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

from tests.common import copy_corpus, write_config


def _read_until(fd: int, wanted: bytes, timeout: float = 30.0) -> bytes:
    """Read a pseudo-terminal until `wanted` shows (or fail)."""
    seen = b""
    deadline = time.monotonic() + timeout
    while wanted not in seen:
        remaining = deadline - time.monotonic()
        assert remaining > 0, seen.decode(errors="replace")
        ready, _, _ = select.select([fd], [], [], remaining)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
    return seen


def test_enter_on_an_empty_line_does_not_quit_the_console(tmp_path: Path) -> None:
    config = write_config(tmp_path, copy_corpus(tmp_path))
    leader, follower = pty.openpty()
    env = {**os.environ, "HOME": str(tmp_path), "TERM": "dumb"}
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "--config", str(config), "console"],
        stdin=follower,
        stdout=follower,
        stderr=follower,
        env=env,
        close_fds=True,
    )
    os.close(follower)
    try:
        _read_until(leader, b"> ")
        os.write(leader, b"\n")
        _read_until(leader, b"> ")
        os.write(leader, b"who chaired the meeting\n")
        assert b"Stoltenberg" in _read_until(leader, b"Stoltenberg")
        assert process.poll() is None
        os.write(leader, b"/reload\n")
        shown = _read_until(leader, b"now.")
        if b"> " not in shown.split(b"now.", 1)[1]:  # the next prompt, before Ctrl-D
            shown += _read_until(leader, b"> ")
        assert shown.count(b"eloaded") == 1, shown  # the result once, not also as a log line
        os.write(leader, b"\x04")  # Ctrl-D quits
        assert process.wait(20) == 0
    finally:
        if process.poll() is None:
            process.kill()
        os.close(leader)


def test_check_without_a_config_says_it_used_none(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "TALKSBOT_CONFIG"}
    done = subprocess.run(
        [sys.executable, "-m", "bot", "check"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 1
    assert "corpus folder does not exist" in done.stderr
    assert "config: none found" in done.stderr and "defaults" in done.stderr
