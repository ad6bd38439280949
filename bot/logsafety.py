"""Secrets out of the logs: a filter that redacts the bot token from every log record.

The Bot API puts the token in every request URL (https://api.telegram.org/bot<token>/getMe), and
httpx logs those URLs at INFO, so without this filter the token lands in the log on startup.

    install_redaction(token)   # once logging is configured (cli.main does it for every command)

The filter sits on the handlers, not on a logger: a logger's filters only see records logged on
that very logger, while a handler's see every record that reaches it, from httpx, telegram or ours.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from urllib.parse import quote

REDACTED = "[REDACTED]"
# Anything shaped like a bot token: 123456789:AAE... (the ":" may be URL-encoded as %3A), either
# standing alone or right after "bot" in a Bot API URL path (…/bot123456789:AAE…/sendMessage).
_TOKEN_SHAPE = re.compile(
    r"(?<=[Bb][Oo][Tt])\d+(?::|%3[Aa])[A-Za-z0-9_-]{10,}"  # …/bot123456789:AAE…/getMe
    r"|\b\d{5,}(?::|%3[Aa])[A-Za-z0-9_-]{30,}"  # 123456789:AAE… anywhere else
)
_EXCEPTION_FORMATTER = logging.Formatter()


class RedactingFilter(logging.Filter):
    """Replaces the given secrets, and anything token-shaped, by [REDACTED] in every record.

    The message is formatted first (msg % args) and the record keeps only the redacted text, so a
    secret passed as an argument (a URL object, a dict, an exception) is caught too; tracebacks
    and stack traces are formatted and redacted the same way.
    """

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        """Redact these strings (empty ones are ignored) and anything token-shaped."""
        super().__init__()
        self._secrets: tuple[str, ...] = ()
        self.add_secrets(secrets)

    def add_secrets(self, secrets: Iterable[str]) -> None:
        """Also redact these strings from now on (and their URL-encoded forms)."""
        found = set(self._secrets)
        for secret in secrets:
            if secret:
                found.update({secret, quote(secret, safe=""), quote(secret)})
                half = secret.split(":", 1)[-1]
                if ":" in secret and len(half) >= 8:
                    found.add(half)  # a bot token's secret half, logged on its own
        # Longest first, so a secret that contains another is replaced whole.
        self._secrets = tuple(sorted(found, key=len, reverse=True))

    def redact(self, text: str) -> str:
        """Return the text with every secret and token-shaped string replaced by [REDACTED]."""
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        return _TOKEN_SHAPE.sub(REDACTED, text)

    def filter(self, record: logging.LogRecord) -> bool:
        """Redact the record in place; never drops it."""
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: keep its parts, redacted, rather than fail
            message = f"{record.msg!r} % {record.args!r}"
        record.msg = self.redact(message)
        record.args = None
        if record.exc_info:
            if not record.exc_text:
                record.exc_text = _EXCEPTION_FORMATTER.formatException(record.exc_info)
            record.exc_info = None  # formatters print exc_text; none can re-format the original
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


def install_redaction(*secrets: str) -> RedactingFilter:
    """Redact these secrets (the bot token, the webhook secret) from every log handler.

    Attaches one RedactingFilter to the root logger's handlers, to the handlers of every logger
    that exists now, and to logging's last-resort handler, and quiets httpx's request lines (they
    hold the token). Safe to call again: a later call adds its secrets to the filter already
    installed and attaches it to handlers created since.
    """
    loggers: list[logging.Logger] = [logging.getLogger()]
    loggers.extend(
        logger for logger in list(logging.Logger.manager.loggerDict.values()) if isinstance(logger, logging.Logger)
    )
    handlers = [handler for logger in loggers for handler in logger.handlers]
    if logging.lastResort is not None:
        handlers.append(logging.lastResort)
    installed = next(
        (f for handler in handlers for f in handler.filters if isinstance(f, RedactingFilter)),
        None,
    )
    if installed is None:
        installed = RedactingFilter(secrets)
    else:
        installed.add_secrets(secrets)
    for handler in handlers:
        if installed not in handler.filters:
            handler.addFilter(installed)
    # httpx logs every request URL at INFO; httpcore traces sockets at DEBUG.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.INFO)
    return installed


class InvalidReplyFilter(logging.Filter):
    """Turns PTB's log of a Bot API reply that is not valid JSON into one short line.

    PTB logs such a reply at ERROR with the whole body (readers' messages included) and a
    traceback, though polling simply tries again; an operator reading the journal sees a crash.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the invalid-JSON record in place; leave any other record alone."""
        if isinstance(record.msg, str) and record.msg.startswith("Can not load invalid JSON data"):
            body = str(record.args[0]) if isinstance(record.args, tuple) and record.args else ""
            record.msg = "Telegram sent a reply that is not valid JSON (%d characters)"
            record.args = (len(body),)
            record.levelno, record.levelname = logging.WARNING, "WARNING"
            record.exc_info, record.exc_text = None, None
        return True


def install_invalid_reply_filter() -> None:
    """Attach InvalidReplyFilter to the logger PTB uses for unreadable replies (once)."""
    ptb = logging.getLogger("telegram.request.BaseRequest")
    if not any(isinstance(f, InvalidReplyFilter) for f in ptb.filters):
        ptb.addFilter(InvalidReplyFilter())
