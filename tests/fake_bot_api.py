"""A Bot API imitation for end-to-end tests: an HTTP server on 127.0.0.1 that talks like Telegram.

It answers /bot<TOKEN>/<method> for the methods talksbot uses, accepting form-encoded (what PTB
sends), JSON and query-string parameters; it records every call, serves queued updates to
getUpdates by offset (long polling with a short cap), checks HTML with tests/telegram_html.py (a bad tag
or a bare "<" or "&" gets 400 "can't parse entities"), and can be told to fail the next calls of
a method: an error status (429 with retry_after, 409, 500, 502 as nginx's HTML page), a slow
answer held past the bot's read timeout (then given, or dropped), a malformed JSON body, or an
outage (it stops listening and comes back on the same port). Like Telegram, it forgets updates
once a getUpdates offset confirms them. Helpers build updates (private and group messages,
mentions, replies, edits, channel posts, forwards, captions, callback and inline queries,
stickers, documents) and wait, with timeouts, for calls. A document's bytes are served like
Telegram serves them: getFile gives a file_path, and GET /file/bot<TOKEN>/<file_path> the bytes
(each download is recorded as a call of the pseudo-method "downloadFile").
"""

from __future__ import annotations

import itertools
import json
import re
import select
import socket
import sys
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qsl, unquote, urlsplit

from tests.telegram_html import TELEGRAM_MAX_CHARS, parse_telegram_html, utf16_length

BOT_ID = 987654321
BOT_USERNAME = "talks_test_bot"
# The sender Telegram shows for a message an anonymous group admin sends "as the group".
ANONYMOUS_ADMIN = {"id": 1087968824, "is_bot": True, "first_name": "Group", "username": "GroupAnonymousBot"}
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
    {"text", "parse_mode", "callback_query_id", "inline_query_id", "action", "url", "secret_token", "file_id",
     "inline_message_id", "next_offset", "language_code", "ip_address", "switch_pm_text", "switch_pm_parameter"}
)


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


FaultKind = Literal["json", "html", "malformed", "slow", "drop"]
NGINX_502 = (
    b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    b"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
)
DROPPED = 0  # the status recorded for a request the imitation never answered


@dataclass
class Fault:
    """What to do instead of answering a call normally.

    json: an error status with Telegram's JSON body; html: an error status with a proxy's HTML
    page; malformed: carry the call out, then answer 200 with half of the JSON; slow: wait `hold`
    seconds, then carry it out and answer (the bot gave up: Telegram did it, the bot cannot know);
    drop: wait `hold` seconds, then close the connection without carrying it out.
    """

    status: int
    description: str
    retry_after: int | None = None
    kind: FaultKind = "json"
    hold: float = 0.0


class _Server(ThreadingHTTPServer):
    """One thread per connection; closing the server does not wait for the bot's kept-alive connections."""

    daemon_threads = True
    block_on_close = False
    # socketserver's default listen backlog is 5. When the API comes back after an outage, the bot's
    # 20 waiting sends reconnect at once; with a backlog of 5 the kernel drops the handshakes it has
    # no room for, and about a second later resets one whose request it never queued: the bot saw
    # "httpx.ReadError: " for a request that never reached the server (in about one run in four).
    # Telegram's servers, like any real one, keep a long backlog.
    request_queue_size = 128

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A connection the bot resets (it gave up on a slow answer, or stopped) is normal here."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


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
        self.files: dict[str, tuple[str, bytes]] = {}  # file_id -> (file_path, bytes)
        self._cond = threading.Condition()
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1000)
        self._query_ids = itertools.count(1)
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._port = 0
        self._down = False
        self._connections: set[BaseHTTPRequestHandler] = set()
        self._busy: set[BaseHTTPRequestHandler] = set()
        self._active: Counter[str] = Counter()  # requests being handled, by method (lower case)
        self._poll_started = 0.0  # when the latest long poll came in

    # --- lifecycle -------------------------------------------------------------------------------

    def start(self) -> FakeBotAPI:
        self._listen(0)
        return self

    def _listen(self, port: int) -> None:
        """Serve on 127.0.0.1:port (0: any free port) in a background thread."""
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body leave at once, as from a real server

            def setup(self) -> None:
                super().setup()
                with api._cond:
                    api._connections.add(self)

            def finish(self) -> None:
                try:
                    super().finish()
                finally:
                    with api._cond:
                        api._connections.discard(self)
                        api._busy.discard(self)

            def do_POST(self) -> None:
                api._handle(self)

            def do_GET(self) -> None:
                api._handle(self)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        server = _Server(("127.0.0.1", port), Handler)
        self._server, self._port = server, int(server.server_address[1])
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-bot-api", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        self._close_idle_connections()

    def __enter__(self) -> FakeBotAPI:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        return self._port

    @property
    def base_url(self) -> str:
        """The value for telegram.api_base_url."""
        return f"http://127.0.0.1:{self.port}/bot"

    @property
    def file_url(self) -> str:
        """The value for telegram.api_file_url."""
        return f"http://127.0.0.1:{self.port}/file/bot"

    def outage(self, seconds: float) -> threading.Thread:
        """The API goes away for `seconds`: connections are refused, then it listens again on the same port.

        Idle kept-alive connections are closed at once, busy ones right after their answer (with
        "Connection: close"). Start it while the bot is idle (see idle()): a request written into
        a connection at the very moment it closes would be lost on the way, which is a different
        fault (a broken connection, ambiguous) from the one imitated here (connection refused).
        Returns the thread that brings the API back; join it to wait for that.
        """
        with self._cond:
            self._down = True
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        self._close_idle_connections()

        def come_back() -> None:
            time.sleep(seconds)
            self._listen(self._port)
            with self._cond:
                self._down = False
                self._cond.notify_all()

        thread = threading.Thread(target=come_back, name="fake-bot-api-back", daemon=True)
        thread.start()
        return thread

    def _close_idle_connections(self) -> None:
        """Close the connections that are waiting for a request and have none coming in."""
        with self._cond:
            idle = [h for h in self._connections if h not in self._busy]
        for handler in idle:
            sock = handler.connection
            try:
                readable, _, _ = select.select([sock], [], [], 0)
                if not readable:
                    sock.shutdown(socket.SHUT_RDWR)
            except (OSError, ValueError):
                pass  # already closed

    @property
    def down(self) -> bool:
        """True during an outage."""
        with self._cond:
            return self._down

    def in_flight(self) -> int:
        """How many requests other than long polls are being handled now."""
        with self._cond:
            return sum(n for method, n in self._active.items() if method != "getupdates")

    def last_call_at(self) -> float:
        """When the last call other than getUpdates was recorded (time.monotonic(); 0 if none)."""
        with self._cond:
            return next((c.at for c in reversed(self.calls) if c.method.lower() != "getupdates"), 0.0)

    def idle(self, timeout: float = 10.0) -> None:
        """Wait until the bot is long polling, that poll has most of its time left, and nothing else is handled."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                others = sum(n for method, n in self._active.items() if method != "getupdates")
                fresh = time.monotonic() - self._poll_started < self.poll_cap / 2
                if self._active["getupdates"] and not others and fresh:
                    return
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"the bot is not idle after {timeout} s: {dict(self._active)}")
                self._cond.wait(min(remaining, 0.1))

    # --- requests --------------------------------------------------------------------------------

    def _handle(self, request: BaseHTTPRequestHandler) -> None:
        with self._cond:
            self._busy.add(request)
        try:
            self._handle_request(request)
        finally:
            with self._cond:
                self._busy.discard(request)

    def _handle_request(self, request: BaseHTTPRequestHandler) -> None:
        url = urlsplit(request.path)
        length = int(request.headers.get("Content-Length") or 0)
        body = request.rfile.read(length) if length else b""
        prefix = f"/bot{self.token}/"
        if url.path.startswith("/file/bot"):
            return self._serve_file(request, url.path)
        if not url.path.startswith("/bot"):
            return self._send(request, 404, {"ok": False, "error_code": 404, "description": "Not Found"})
        if not url.path.startswith(prefix):
            return self._send(request, 401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
        method = url.path[len(prefix) :].strip("/")
        try:
            params = self._decode(dict(parse_qsl(url.query)), body, request.headers.get("Content-Type", ""))
        except ValueError as exc:
            return self._send(request, 400, {"ok": False, "error_code": 400, "description": f"Bad Request: {exc}"})
        name = method.lower()
        with self._cond:
            self._active[name] += 1
            queue = self.faults.get(name)
            fault = queue.popleft() if queue else None
        try:
            self._serve(request, method, params, fault)
        finally:
            with self._cond:
                self._active[name] -= 1
                self._cond.notify_all()

    def _serve(self, request: BaseHTTPRequestHandler, method: str, params: dict[str, Any], fault: Fault | None) -> None:
        """Answer one call, or carry out the fault planned for it."""
        if fault is None or fault.kind in ("malformed", "slow"):
            if fault is not None and fault.kind == "slow":
                time.sleep(fault.hold)
            status, response = self._dispatch(method, params)
            if fault is not None and fault.kind == "malformed":
                payload = json.dumps(response).encode()
                return self._send_bytes(request, 200, payload[: len(payload) // 2], "application/json")
            return self._send(request, status, response)
        if fault.kind == "drop":
            time.sleep(fault.hold)
            self._record(Call(method, params, DROPPED, {}))
            request.close_connection = True
            return None
        response = {"ok": False, "error_code": fault.status, "description": fault.description}
        if fault.retry_after is not None:
            response["parameters"] = {"retry_after": fault.retry_after}
        self._record(Call(method, params, fault.status, response))
        if fault.kind == "html":
            return self._send_bytes(request, fault.status, NGINX_502, "text/html")
        return self._send(request, fault.status, response)

    def _serve_file(self, request: BaseHTTPRequestHandler, path: str) -> None:
        """GET /file/bot<TOKEN>/<file_path>: the bytes of a file a user sent (404 for any other path)."""
        prefix = f"/file/bot{self.token}/"
        path = unquote(path)  # PTB quotes the token's ":" in file URLs
        file_path = path[len(prefix) :] if path.startswith(prefix) else None
        with self._cond:
            data = next((d for p, d in self.files.values() if p == file_path), None)
        self._record(Call("downloadFile", {"file_path": file_path}, 200 if data is not None else 404, {}))
        if data is None:
            return self._send_bytes(request, 404, b"Not Found", "text/plain")
        return self._send_bytes(request, 200, data, "application/octet-stream")

    def _record(self, call: Call) -> None:
        with self._cond:
            self.calls.append(call)
            self._cond.notify_all()

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

    def _send(self, request: BaseHTTPRequestHandler, status: int, response: dict[str, Any]) -> None:
        self._send_bytes(request, status, json.dumps(response).encode(), "application/json")

    def _send_bytes(self, request: BaseHTTPRequestHandler, status: int, payload: bytes, content_type: str) -> None:
        try:
            request.send_response(status)
            request.send_header("Content-Type", content_type)
            request.send_header("Content-Length", str(len(payload)))
            if self.down:  # the API is going away: this connection ends with this answer
                request.send_header("Connection", "close")
                request.close_connection = True
            request.end_headers()
            request.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the bot gave up on a long poll (it is stopping): as with Telegram, nothing is lost

    def _dispatch(self, method: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        name = method.lower()
        if name == "getupdates":
            return 200, {"ok": True, "result": self._get_updates(params)}
        with self._cond:
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
        """Long poll: the unconfirmed updates from the offset on (an offset confirms all before it)."""
        offset = int(params.get("offset") or 0)
        limit = int(params.get("limit") or 100)
        deadline = time.monotonic() + min(float(params.get("timeout") or 0), self.poll_cap)
        with self._cond:
            self._poll_started = time.monotonic()
            self.confirmed_offset = max(self.confirmed_offset, offset)
            while True:
                # Telegram forgets confirmed updates: an offset of 0 (a restarted bot) starts after them.
                first = self.confirmed_offset
                pending = [u for u in self.updates if u["update_id"] >= first]
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

    def _m_getfile(self, params: dict[str, Any]) -> Any:
        file_id = str(params.get("file_id") or "")
        if file_id not in self.files:
            raise BadRequest("invalid file_id")
        file_path, data = self.files[file_id]
        return {"file_id": file_id, "file_unique_id": f"u{file_id}", "file_size": len(data), "file_path": file_path}

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
        if utf16_length(visible) > TELEGRAM_MAX_CHARS:
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

    def fail_next(
        self,
        method: str,
        times: int = 1,
        status: int = 500,
        retry_after: int | None = None,
        kind: FaultKind = "json",
        hold: float = 0.0,
    ) -> None:
        """Answer the next `times` calls of `method` with a fault (see Fault) instead of the result."""
        description = {
            429: f"Too Many Requests: retry after {retry_after}",
            409: "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running",
            500: "Internal Server Error",
            502: "Bad Gateway",
        }.get(status, f"Error {status}")
        with self._cond:
            self.faults.setdefault(method.lower(), deque()).extend(
                Fault(status, description, retry_after, kind, hold) for _ in range(times)
            )

    def pending_faults(self, method: str) -> int:
        """How many planned faults of a method have not been used yet."""
        with self._cond:
            return len(self.faults.get(method.lower(), ()))

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

    def as_group(self, group: dict[str, Any], text: str) -> dict[str, Any]:
        """Queue a message an anonymous group admin sent "as the group" (from GroupAnonymousBot)."""
        return self.message(group, ANONYMOUS_ADMIN["id"], text, sender_chat=group, **{"from": ANONYMOUS_ADMIN})

    def channel_post(self, channel_id: int, text: str) -> dict[str, Any]:
        """Queue a post in a channel where the bot is an admin (no sender user, the channel as sender_chat)."""
        chat = {"id": channel_id, "type": "channel", "title": f"Channel {channel_id}"}
        post: dict[str, Any] = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": chat,
            "sender_chat": chat,
            "text": text,
        }
        entities = _entities(text)
        if entities:
            post["entities"] = entities
        with self._cond:
            self.chats[channel_id] = chat
            self.messages[(channel_id, post["message_id"])] = post
        self.push(channel_post=post)
        return post

    def edit(self, message: dict[str, Any], text: str) -> dict[str, Any]:
        """Queue an edited_message update: the user changed an old message's text to `text`."""
        edited = {k: v for k, v in message.items() if k not in ("text", "entities")}
        edited.update(text=text, edit_date=int(time.time()))
        entities = _entities(text)
        if entities:
            edited["entities"] = entities
        with self._cond:
            self.messages[(message["chat"]["id"], message["message_id"])] = edited
        self.push(edited_message=edited)
        return edited

    def forwarded(self, chat: dict[str, Any], user_id: int, text: str, origin_user_id: int) -> dict[str, Any]:
        """Queue a message a user forwarded from another user (entities kept, as Telegram keeps them)."""
        origin = {
            "type": "user",
            "date": int(time.time()) - 3600,
            "sender_user": {"id": origin_user_id, "is_bot": False, "first_name": f"Reader{origin_user_id}"},
        }
        return self.message(chat, user_id, text, forward_origin=origin)

    def captioned(self, chat: dict[str, Any], user_id: int, caption: str) -> dict[str, Any]:
        """Queue a photo with a caption (the caption's entities are caption_entities, there is no text)."""
        photo = [{"file_id": "AgACAgFakePhoto", "file_unique_id": "AQADFake", "width": 90, "height": 60}]
        extra: dict[str, Any] = {"photo": photo, "caption": caption}
        entities = _entities(caption)
        if entities:
            extra["caption_entities"] = entities
        return self.message(chat, user_id, None, **extra)

    def sticker(self, chat: dict[str, Any], user_id: int) -> dict[str, Any]:
        """Queue a sticker message."""
        sticker = {
            "file_id": "CAACAgIAAxkBAAEFake", "file_unique_id": "AgADFake", "type": "regular",
            "width": 512, "height": 512, "is_animated": False, "is_video": False,
        }
        return self.message(chat, user_id, None, sticker=sticker)

    def document(
        self, user_id: int, file_name: str, data: bytes, mime_type: str = "text/html", caption: str | None = None
    ) -> dict[str, Any]:
        """Queue a private message from a user with a file attached; its bytes are served through getFile."""
        with self._cond:
            number = len(self.files) + 1
            file_id = f"BQACAgFakeDocument{number}"
            self.files[file_id] = (f"documents/file_{number}{Path(file_name).suffix}", data)
        document = {
            "file_id": file_id,
            "file_unique_id": f"AgADFakeDoc{number}",
            "file_name": file_name,
            "mime_type": mime_type,
            "file_size": len(data),
        }
        extra: dict[str, Any] = {"document": document}
        if caption is not None:
            extra["caption"] = caption
        return self.message(self.private_chat(user_id), user_id, None, **extra)

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

    def update_ids(self) -> dict[tuple[int, int], int]:
        """The update id of each queued message, by (chat id, message id)."""
        with self._cond:
            return {
                (u["message"]["chat"]["id"], u["message"]["message_id"]): int(u["update_id"])
                for u in self.updates
                if "message" in u
            }

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
        entities.append({"type": "bot_command", "offset": 0, "length": utf16_length(command.group())})
    for mention in re.finditer(r"(?<![\w/])@[A-Za-z0-9_]{5,32}", text):
        if command and mention.start() < command.end():
            continue
        offset, length = utf16_length(text[: mention.start()]), utf16_length(mention.group())
        entities.append({"type": "mention", "offset": offset, "length": length})
    return entities
