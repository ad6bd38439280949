"""A Bot API imitation for end-to-end tests: an HTTP server on 127.0.0.1 that talks like Telegram.

It answers /bot<TOKEN>/<method> for the methods talksbot uses, accepting form-encoded (what PTB
sends), JSON and query-string parameters; it records every call, serves queued updates to
getUpdates by offset (long polling with a short cap), checks HTML like Telegram does (a bad tag
or a bare "<" or "&" gets 400 "can't parse entities"), and can be told to fail the next calls of
a method (429 with retry_after, 500, ...). Helpers build updates (private and group messages,
mentions, replies, callback and inline queries, stickers) and wait, with timeouts, for calls.
"""

from __future__ import annotations

import html.parser
import itertools
import json
import re
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

BOT_ID = 987654321
BOT_USERNAME = "talks_test_bot"
BOT_USER = {
    "id": BOT_ID,
    "is_bot": True,
    "first_name": "Talks Test Bot",
    "username": BOT_USERNAME,
    "can_join_groups": True,
    "can_read_all_group_messages": False,
    "supports_inline_queries": True,
}
# Parameters that are text even when they look like JSON ("42" stays a string).
_TEXT_PARAMS = frozenset(
    {"text", "parse_mode", "callback_query_id", "inline_query_id", "action", "url", "secret_token",
     "inline_message_id", "next_offset", "language_code", "ip_address", "switch_pm_text", "switch_pm_parameter"}
)
_ALLOWED_TAGS = {
    "b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "a", "code", "pre", "tg-spoiler", "span",
    "blockquote", "tg-emoji",
}
_ENTITIES = {"lt", "gt", "amp", "quot"}
TELEGRAM_MAX_CHARS = 4096


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, as Telegram counts."""
    return len(text.encode("utf-16-le")) // 2


class _HTMLChecker(html.parser.HTMLParser):
    """Checks a text the way Telegram's HTML parse mode does and collects its visible text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.stack: list[str] = []
        self.visible: list[str] = []
        self.links: list[str] = []
        self.bold: list[str] = []
        self.errors: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in _ALLOWED_TAGS:
            self.errors.append(f"unsupported start tag \"{tag}\"")
            return
        if tag == "a":
            href = dict(attrs).get("href")
            if not href:
                self.errors.append("a tag without href")
            else:
                self.links.append(href)
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"unexpected end tag \"{tag}\"")
            return
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        if "<" in data or ">" in data or "&" in data:
            self.errors.append(f"unescaped character in {data[:30]!r}")
        self.visible.append(data)
        if "b" in self.stack or "strong" in self.stack:
            self.bold.append(data)

    def handle_entityref(self, name: str) -> None:
        if name not in _ENTITIES:
            self.errors.append(f"unsupported entity &{name};")
        char = html.unescape(f"&{name};")
        self.visible.append(char)
        if "b" in self.stack or "strong" in self.stack:
            self.bold.append(char)

    def handle_charref(self, name: str) -> None:
        char = html.unescape(f"&#{name};")
        self.visible.append(char)
        if "b" in self.stack or "strong" in self.stack:
            self.bold.append(char)


@dataclass
class ParsedHTML:
    """What Telegram would show for an HTML text, and what was wrong with it."""

    visible: str
    links: list[str]
    bold: str
    errors: list[str]


def parse_telegram_html(text: str) -> ParsedHTML:
    """Parse a text in Telegram's HTML parse mode (tags, entities, nesting)."""
    checker = _HTMLChecker()
    checker.feed(text)
    checker.close()
    if checker.rawdata:  # an unterminated "<..." left over
        checker.errors.append(f"unterminated tag in {checker.rawdata[:30]!r}")
    if checker.stack:
        checker.errors.append(f"unclosed tags {checker.stack}")
    return ParsedHTML("".join(checker.visible), checker.links, "".join(checker.bold), checker.errors)


@dataclass
class Call:
    """One request the bot made: the method, its decoded parameters, and what we answered."""

    method: str
    params: dict[str, Any]
    status: int
    response: dict[str, Any]
    at: float = field(default_factory=time.monotonic)

    @property
    def ok(self) -> bool:
        return self.status == 200

    @property
    def result(self) -> Any:
        return self.response.get("result")


@dataclass
class Fault:
    """An error to answer instead of the real result."""

    status: int
    description: str
    retry_after: int | None = None


class FakeBotAPI:
    """The imitation server; use as a context manager or call start() and stop()."""

    def __init__(self, token: str, poll_cap: float = 0.5) -> None:
        self.token = token
        self.poll_cap = poll_cap
        self.calls: list[Call] = []
        self.updates: list[dict[str, Any]] = []
        self.messages: dict[tuple[int, int], dict[str, Any]] = {}
        self.chats: dict[int, dict[str, Any]] = {}
        self.faults: dict[str, deque[Fault]] = {}
        self.confirmed_offset = 0
        self._cond = threading.Condition()
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1000)
        self._query_ids = itertools.count(1)
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle -------------------------------------------------------------------------------

    def start(self) -> FakeBotAPI:
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                api._handle(self)

            def do_GET(self) -> None:
                api._handle(self)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-bot-api", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def __enter__(self) -> FakeBotAPI:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        """The value for telegram.api_base_url."""
        return f"http://127.0.0.1:{self.port}/bot"

    # --- requests --------------------------------------------------------------------------------

    def _handle(self, request: BaseHTTPRequestHandler) -> None:
        url = urlsplit(request.path)
        length = int(request.headers.get("Content-Length") or 0)
        body = request.rfile.read(length) if length else b""
        prefix = f"/bot{self.token}/"
        if not url.path.startswith("/bot"):
            return self._send(request, 404, {"ok": False, "error_code": 404, "description": "Not Found"})
        if not url.path.startswith(prefix):
            return self._send(request, 401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
        method = url.path[len(prefix) :].strip("/")
        try:
            params = self._decode(dict(parse_qsl(url.query)), body, request.headers.get("Content-Type", ""))
        except ValueError as exc:
            return self._send(request, 400, {"ok": False, "error_code": 400, "description": f"Bad Request: {exc}"})
        status, response = self._dispatch(method, params)
        self._send(request, status, response)

    @staticmethod
    def _decode(query: dict[str, str], body: bytes, content_type: str) -> dict[str, Any]:
        raw: dict[str, Any] = dict(query)
        if content_type.startswith("application/json"):
            raw.update(json.loads(body or b"{}"))
            return raw
        if content_type.startswith("multipart/"):
            raise ValueError("multipart bodies are not imitated")
        raw.update(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
        decoded: dict[str, Any] = {}
        for key, value in raw.items():
            if key in _TEXT_PARAMS or not isinstance(value, str):
                decoded[key] = value
                continue
            try:
                decoded[key] = json.loads(value)
            except ValueError:
                decoded[key] = value
        return decoded

    @staticmethod
    def _send(request: BaseHTTPRequestHandler, status: int, response: dict[str, Any]) -> None:
        payload = json.dumps(response).encode()
        try:
            request.send_response(status)
            request.send_header("Content-Type", "application/json")
            request.send_header("Content-Length", str(len(payload)))
            request.end_headers()
            request.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the bot gave up on a long poll (it is stopping): as with Telegram, nothing is lost

    def _dispatch(self, method: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        name = method.lower()
        if name == "getupdates":
            return 200, {"ok": True, "result": self._get_updates(params)}
        with self._cond:
            queue = self.faults.get(name)
            if queue:
                fault = queue.popleft()
                response: dict[str, Any] = {"ok": False, "error_code": fault.status, "description": fault.description}
                if fault.retry_after is not None:
                    response["parameters"] = {"retry_after": fault.retry_after}
                status = fault.status
            else:
                status, response = self._answer(name, params)
            self.calls.append(Call(method, params, status, response))
            self._cond.notify_all()
        return status, response

    def _answer(self, name: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """The real result of a call (called with the lock held)."""
        handler: Callable[[dict[str, Any]], Any] | None = getattr(self, f"_m_{name}", None)
        if handler is None:
            return 404, {"ok": False, "error_code": 404, "description": "Not Found: method not found"}
        try:
            return 200, {"ok": True, "result": handler(params)}
        except BadRequest as exc:
            return 400, {"ok": False, "error_code": 400, "description": f"Bad Request: {exc}"}

    def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(params.get("offset") or 0)
        limit = int(params.get("limit") or 100)
        deadline = time.monotonic() + min(float(params.get("timeout") or 0), self.poll_cap)
        with self._cond:
            self.confirmed_offset = max(self.confirmed_offset, offset)
            while True:
                pending = [u for u in self.updates if u["update_id"] >= offset]
                remaining = deadline - time.monotonic()
                if pending or remaining <= 0:
                    self.calls.append(Call("getUpdates", params, 200, {"ok": True, "result": pending[:limit]}))
                    self._cond.notify_all()
                    return pending[:limit]
                self._cond.wait(remaining)

    # --- methods (lock held) ---------------------------------------------------------------------

    def _m_getme(self, params: dict[str, Any]) -> Any:
        return BOT_USER

    def _m_deletewebhook(self, params: dict[str, Any]) -> Any:
        return True

    def _m_setwebhook(self, params: dict[str, Any]) -> Any:
        if not str(params.get("url", "")).startswith(("https://", "http://127.")):
            raise BadRequest("bad webhook: HTTPS url must be provided for webhook")
        return True

    def _m_getwebhookinfo(self, params: dict[str, Any]) -> Any:
        return {"url": "", "has_custom_certificate": False, "pending_update_count": 0}

    def _m_setmycommands(self, params: dict[str, Any]) -> Any:
        commands = params.get("commands")
        if not isinstance(commands, list) or not all("command" in c and "description" in c for c in commands):
            raise BadRequest("commands must be a list of BotCommand")
        return True

    def _m_deletemycommands(self, params: dict[str, Any]) -> Any:
        return True

    def _m_getmycommands(self, params: dict[str, Any]) -> Any:
        return []

    def _m_close(self, params: dict[str, Any]) -> Any:
        return True

    def _m_logout(self, params: dict[str, Any]) -> Any:
        return True

    def _m_sendchataction(self, params: dict[str, Any]) -> Any:
        self._chat(params)
        return True

    def _m_answercallbackquery(self, params: dict[str, Any]) -> Any:
        if not params.get("callback_query_id"):
            raise BadRequest("query is too old and response timeout expired or query ID is invalid")
        if len(str(params.get("text") or "")) > 200:
            raise BadRequest("MESSAGE_TOO_LONG")
        return True

    def _m_answerinlinequery(self, params: dict[str, Any]) -> Any:
        results = params.get("results")
        if not isinstance(results, list) or len(results) > 50:
            raise BadRequest("RESULTS_TOO_MUCH")
        ids = [r.get("id", "") for r in results]
        if len(set(ids)) != len(ids) or any(not 1 <= len(i.encode()) <= 64 for i in ids):
            raise BadRequest("RESULT_ID_INVALID")
        for result in results:
            content = result.get("input_message_content") or {}
            self._check_text(content.get("message_text", ""), content.get("parse_mode"))
        return True

    def _m_sendmessage(self, params: dict[str, Any]) -> Any:
        chat = self._chat(params)
        self._check_text(params.get("text", ""), params.get("parse_mode"))
        self._check_markup(params.get("reply_markup"))
        message = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": chat,
            "from": BOT_USER,
            "text": params["text"],
        }
        if params.get("reply_markup"):
            message["reply_markup"] = params["reply_markup"]
        reply = params.get("reply_parameters") or {}
        if reply.get("message_id") and (chat["id"], reply["message_id"]) in self.messages:
            message["reply_to_message"] = self.messages[(chat["id"], reply["message_id"])]
        self.messages[(chat["id"], message["message_id"])] = message
        return message

    def _m_editmessagetext(self, params: dict[str, Any]) -> Any:
        message = self._stored(params)
        self._check_text(params.get("text", ""), params.get("parse_mode"))
        self._check_markup(params.get("reply_markup"))
        if message["text"] == params["text"] and message.get("reply_markup") == params.get("reply_markup"):
            raise BadRequest("message is not modified")
        message["text"] = params["text"]
        message["reply_markup"] = params.get("reply_markup")
        return message

    def _m_editmessagereplymarkup(self, params: dict[str, Any]) -> Any:
        message = self._stored(params)
        self._check_markup(params.get("reply_markup"))
        message["reply_markup"] = params.get("reply_markup")
        return message

    def _chat(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = params.get("chat_id")
        if not isinstance(chat_id, int):
            raise BadRequest("chat not found")
        return self.chats.setdefault(chat_id, {"id": chat_id, "type": "private", "first_name": "Reader"})

    def _stored(self, params: dict[str, Any]) -> dict[str, Any]:
        key = (params.get("chat_id"), params.get("message_id"))
        if key not in self.messages:
            raise BadRequest("message to edit not found")
        return self.messages[key]  # type: ignore[index]

    @staticmethod
    def _check_text(text: str, parse_mode: str | None) -> None:
        if not text.strip():
            raise BadRequest("message text is empty")
        visible = text
        if (parse_mode or "").upper() == "HTML":
            parsed = parse_telegram_html(text)
            if parsed.errors:
                raise BadRequest(f"can't parse entities: {parsed.errors[0]}")
            visible = parsed.visible
        if utf16_len(visible) > TELEGRAM_MAX_CHARS:
            raise BadRequest("message is too long")

    @staticmethod
    def _check_markup(markup: Any) -> None:
        if not markup:
            return
        for row in markup.get("inline_keyboard", []):
            for button in row:
                data = button.get("callback_data")
                if data is not None and not 1 <= len(data.encode()) <= 64:
                    raise BadRequest("BUTTON_DATA_INVALID")

    # --- the test's side: faults, updates, waiting ------------------------------------------------

    def fail_next(self, method: str, times: int = 1, status: int = 500, retry_after: int | None = None) -> None:
        """Answer the next `times` calls of `method` with an error instead of the result."""
        description = {429: f"Too Many Requests: retry after {retry_after}", 500: "Internal Server Error"}.get(
            status, f"Error {status}"
        )
        with self._cond:
            self.faults.setdefault(method.lower(), deque()).extend(
                Fault(status, description, retry_after) for _ in range(times)
            )

    def push(self, **content: Any) -> int:
        """Queue one update, e.g. push(message={...}); return its update_id."""
        with self._cond:
            update = {"update_id": next(self._update_ids), **content}
            self.updates.append(update)
            self._cond.notify_all()
            return int(update["update_id"])

    def private_chat(self, user_id: int) -> dict[str, Any]:
        chat = {"id": user_id, "type": "private", "first_name": f"Reader{user_id}"}
        with self._cond:
            self.chats[user_id] = chat
        return chat

    def group_chat(self, chat_id: int) -> dict[str, Any]:
        chat = {"id": chat_id, "type": "supergroup", "title": f"Group {chat_id}"}
        with self._cond:
            self.chats[chat_id] = chat
        return chat

    def message(
        self,
        chat: dict[str, Any],
        user_id: int,
        text: str | None = None,
        reply_to: dict[str, Any] | None = None,
        **extra: Any,
    ) -> dict[str, Any]:
        """Queue a message update from a user in a chat and return the message.

        Entities are set as Telegram sets them: a bot_command for a leading /command, a mention
        for each @username.
        """
        message: dict[str, Any] = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": chat,
            "from": {"id": user_id, "is_bot": False, "first_name": f"Reader{user_id}"},
            **extra,
        }
        if text is not None:
            message["text"] = text
            entities = _entities(text)
            if entities:
                message["entities"] = entities
        if reply_to is not None:
            message["reply_to_message"] = reply_to
        with self._cond:
            self.messages[(chat["id"], message["message_id"])] = message
        self.push(message=message)
        return message

    def private(self, user_id: int, text: str | None = None, **extra: Any) -> dict[str, Any]:
        """Queue a private message from a user."""
        return self.message(self.private_chat(user_id), user_id, text, **extra)

    def sticker(self, chat: dict[str, Any], user_id: int) -> dict[str, Any]:
        """Queue a sticker message."""
        sticker = {
            "file_id": "CAACAgIAAxkBAAEFake", "file_unique_id": "AgADFake", "type": "regular",
            "width": 512, "height": 512, "is_animated": False, "is_video": False,
        }
        return self.message(chat, user_id, None, sticker=sticker)

    def press(self, user_id: int, message: dict[str, Any], data: str) -> str:
        """Queue a callback query: the user pressed the button with `data` under `message`."""
        query_id = str(next(self._query_ids))
        with self._cond:
            current = self.messages.get((message["chat"]["id"], message["message_id"]), message)
        self.push(
            callback_query={
                "id": query_id,
                "from": {"id": user_id, "is_bot": False, "first_name": f"Reader{user_id}"},
                "message": current,
                "chat_instance": f"ci{message['chat']['id']}",
                "data": data,
            }
        )
        return query_id

    def inline(self, user_id: int, query: str) -> str:
        """Queue an inline query "@bot query" typed by a user."""
        query_id = str(next(self._query_ids))
        self.push(
            inline_query={
                "id": query_id,
                "from": {"id": user_id, "is_bot": False, "first_name": f"Reader{user_id}"},
                "query": query,
                "offset": "",
                "chat_type": "sender",
            }
        )
        return query_id

    def stored(self, chat_id: int, message_id: int) -> dict[str, Any]:
        """The message as it stands now (after edits)."""
        with self._cond:
            return json.loads(json.dumps(self.messages[(chat_id, message_id)]))

    def find(self, method: str, where: Callable[[Call], bool] = lambda c: True) -> list[Call]:
        """The recorded calls of a method that match."""
        with self._cond:
            return [c for c in self.calls if c.method.lower() == method.lower() and where(c)]

    def wait(
        self,
        method: str,
        where: Callable[[Call], bool] = lambda c: True,
        count: int = 1,
        timeout: float = 10.0,
    ) -> list[Call]:
        """Wait until at least `count` matching calls are recorded; fail the test after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                found = [c for c in self.calls if c.method.lower() == method.lower() and where(c)]
                remaining = deadline - time.monotonic()
                if len(found) >= count or remaining <= 0:
                    break
                self._cond.wait(min(remaining, 0.5))
        if len(found) < count:
            raise AssertionError(f"{method}: {len(found)} of {count} expected calls after {timeout} s")
        return found

    def quiet(self, method: str, where: Callable[[Call], bool], seconds: float) -> list[Call]:
        """Wait `seconds` and return the matching calls (for asserting that nothing was sent)."""
        time.sleep(seconds)
        return self.find(method, where)

    def consumed(self, update_id: int, timeout: float = 10.0) -> None:
        """Wait until the bot confirmed it fetched this update (a later getUpdates offset)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self.confirmed_offset <= update_id:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"update {update_id} not fetched after {timeout} s")
                self._cond.wait(min(remaining, 0.5))


class BadRequest(Exception):
    """A 400 answer with this description."""


def _entities(text: str) -> list[dict[str, Any]]:
    """Telegram's entities for a plain text: a leading /command and @mentions (UTF-16 offsets)."""
    entities = []
    command = re.match(r"/[A-Za-z0-9_]+(@[A-Za-z0-9_]+)?", text)
    if command:
        entities.append({"type": "bot_command", "offset": 0, "length": utf16_len(command.group())})
    for mention in re.finditer(r"(?<![\w/])@[A-Za-z0-9_]{5,32}", text):
        if command and mention.start() < command.end():
            continue
        entities.append(
            {"type": "mention", "offset": utf16_len(text[: mention.start()]), "length": utf16_len(mention.group())}
        )
    return entities
