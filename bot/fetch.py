"""Download of a web page to import, refusing what would let the bot probe the operator's network.

One GET, by httpx: a timeout for the whole download, a size cap (the body is streamed and reading
stops past the cap), HTML only, a few redirects at most, each one checked again. The host's
addresses are resolved first and every one must be global (not loopback, private, link-local,
shared, reserved or multicast) unless `import.allow_private_addresses` is set; the address httpx
actually connected to is checked again before the body is read, so a name that resolves
differently the second time (DNS rebinding) gets at most a GET it cannot read the answer of.
Proxies from the environment are not used: the check must be on the host that is reached.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import httpx

from bot import __version__
from bot.errors import FetchError

logger = logging.getLogger(__name__)

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
HTML_TYPES = ("text/html", "application/xhtml+xml")
USER_AGENT = f"talksbot/{__version__} (article import)"


@dataclass(frozen=True)
class FetchSettings:
    """Limits of one download."""

    allow_private: bool = False
    max_bytes: int = 5 * 1024 * 1024
    timeout: float = 20.0
    max_redirects: int = 3


@dataclass(frozen=True)
class Page:
    """A downloaded page: the address it came from after redirects, and its bytes."""

    url: str
    content_type: str
    data: bytes


def is_public(ip: IPAddress) -> bool:
    """True for an address on the public internet (global unicast)."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address a host name resolves to (an IP literal resolves to itself)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise FetchError(f"cannot find the host {host} ({getattr(exc, 'strerror', None) or exc})") from None
    return [ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos]


def fetch(
    url: str,
    settings: FetchSettings = FetchSettings(),
    *,
    allowed: Callable[[IPAddress], bool] | None = None,
    resolver: Callable[[str, int], list[IPAddress]] = resolve,
) -> Page:
    """Download an HTML page; FetchError with a one-line reason for anything refused or failed."""
    if allowed is None:
        allowed = (lambda ip: True) if settings.allow_private else is_public
    deadline = time.monotonic() + settings.timeout
    headers = {"User-Agent": USER_AGENT, "Accept": ", ".join(HTML_TYPES) + ";q=1, */*;q=0.1"}
    current = url
    try:
        with httpx.Client(
            timeout=settings.timeout, follow_redirects=False, trust_env=False, headers=headers
        ) as client:
            for _ in range(settings.max_redirects + 1):
                host = _check_target(current, allowed, resolver)
                with client.stream("GET", current) as response:
                    _check_peer(response, host, allowed)
                    if response.is_redirect:
                        location = response.headers.get("location", "").strip()
                        if not location:
                            raise FetchError(f"{host} answered a redirect ({response.status_code}) without an address")
                        current = urljoin(str(response.url), location)
                        continue
                    if response.status_code != 200:
                        raise FetchError(f"{host} answered {response.status_code} {response.reason_phrase}".rstrip())
                    content_type = response.headers.get("content-type", "").split(";", 1)[0].strip().lower()
                    if content_type not in HTML_TYPES:
                        raise FetchError(
                            f"the address serves {content_type or 'no content type'}, not a web page (text/html)"
                        )
                    data = _read_capped(response, settings, deadline)
                    return Page(str(response.url), content_type, data)
    except httpx.TimeoutException:
        raise FetchError(f"the site did not answer within {settings.timeout:g} s") from None
    except httpx.InvalidURL as exc:
        raise FetchError(f"not a usable address: {exc}") from None
    except httpx.HTTPError as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise FetchError(f"cannot download the page: {reason}") from None
    raise FetchError(f"too many redirects (more than {settings.max_redirects})")


def _check_target(
    url: str, allowed: Callable[[IPAddress], bool], resolver: Callable[[str, int], list[IPAddress]]
) -> str:
    """Refuse a URL that is not http(s) or whose host resolves to any address not allowed; return the host."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise FetchError(f"only http(s) addresses can be imported, not '{url[:100]}'")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise FetchError(f"bad port in '{url[:100]}'") from None
    host = parts.hostname
    addresses = resolver(host, port)
    if not addresses:
        raise FetchError(f"cannot find the host {host}")
    refused = [ip for ip in addresses if not allowed(ip)]
    if refused:
        raise FetchError(
            f"refused: {host} is on a private or local network ({refused[0]}); "
            "set import.allow_private_addresses to import from such hosts"
        )
    return host


def _check_peer(response: httpx.Response, host: str, allowed: Callable[[IPAddress], bool]) -> None:
    """Refuse an answer from an address not allowed (the name resolved differently when connecting)."""
    stream = response.extensions.get("network_stream")
    peer = stream.get_extra_info("server_addr") if stream is not None else None
    if not peer:
        return
    try:
        ip = ipaddress.ip_address(str(peer[0]).split("%", 1)[0])
    except ValueError:
        return
    if not allowed(ip):
        raise FetchError(f"refused: {host} connected to a private or local address ({ip})")


def _read_capped(response: httpx.Response, settings: FetchSettings, deadline: float) -> bytes:
    """The body, at most max_bytes of it (decompressed), within the deadline; stop reading past either."""
    limit = settings.max_bytes
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise FetchError(f"the page is too large ({int(declared):,} bytes; the limit is {limit:,})")
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes(65536):
        size += len(chunk)
        if size > limit:
            raise FetchError(f"the page is too large (more than {limit:,} bytes)")
        if time.monotonic() > deadline:
            raise FetchError(f"the download took longer than {settings.timeout:g} s")
        chunks.append(chunk)
    return b"".join(chunks)
