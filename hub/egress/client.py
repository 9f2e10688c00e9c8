"""The HTTP client that provider checks use to call addresses chosen by API users.

A check calls a URL that whoever stored the integration picked (Jira's `base_url`, an
`api_base_url`, a Slack webhook), so every request is guarded (../shared/PROVIDERS.md, "Calling
user-supplied addresses safely"):

- only http and https; plain http only to hosts the operator allows (`HUB_VERIFY_ALLOW_HOSTS`);
  URLs carrying a user name or password are refused;
- the host name is resolved once, EVERY address it resolves to must be public (or allowed), and
  the connection goes to an address that was checked, never through a second lookup (no DNS
  rebinding); Host header, TLS server name and certificate check keep the original name;
- no redirect is followed: a 3xx comes back as a response for the check to judge;
- one deadline covers lookup, connect, TLS, sending and reading; a server that trickles bytes
  cannot stretch it;
- the body is read up to `max_body` bytes: beyond that, reading stops and the response comes back
  with `truncated=True` (its status and headers are still sound, so a check can still judge a
  401 that carries a huge HTML page; `json()` refuses a truncated body);
- proxy settings (HTTPS_PROXY ...) are ignored: a proxy would resolve the name again, beyond
  these checks;
- errors name the host, say what to do, and never carry the URL's path or query (a Slack webhook
  URL is itself a secret), a header value, or the response body. They are raised `from None` so
  that no underlying exception holding those rides along in a traceback.
"""
from __future__ import annotations

import dataclasses
import http.client
import ipaddress
import json as jsonlib
import re
import socket
import ssl
import string
import threading
import time
from typing import Any
from urllib.parse import quote, urlsplit

import urllib3
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.exceptions import HTTPError as Urllib3Error
from urllib3.exceptions import NewConnectionError, ProtocolError, SSLError
from urllib3.exceptions import TimeoutError as Urllib3Timeout
from urllib3.util.ssl_match_hostname import CertificateError as HostnameMismatch

from hub.egress.policy import (
    ALLOW_HOSTS_SETTING,
    METADATA_ADDRESSES,
    AllowList,
    IPAddress,
    _embedded_ipv4,
    is_public_address,
    normalize_host_name,
)

DEFAULT_TIMEOUT = 10.0
DEFAULT_MAX_BODY = 1024 * 1024
USER_AGENT = "hub-integration-check/1"
_MESSAGE_ALLOW_HINT = f"add it to {ALLOW_HOSTS_SETTING} if the hub may call it"


class EgressError(Exception):
    """A request that could not be made or completed; `code` is a verification error code."""

    CODES = ("unreachable", "timeout", "blocked_address")

    def __init__(self, code: str, message: str):
        if code not in self.CODES:
            raise ValueError(f"unknown egress error code {code!r}")
        super().__init__(message)
        self.code = code
        self.message = message

    def __repr__(self) -> str:
        return f"EgressError({self.code!r}, {self.message!r})"


@dataclasses.dataclass(frozen=True)
class _Target:
    """A parsed, normalised request URL."""

    scheme: str
    host: str  # ASCII, lower case; an IP literal without brackets
    port: int
    request_target: str  # path and query: may carry secrets (a webhook URL), never in messages

    @classmethod
    def parse(cls, url: str) -> "_Target":
        try:
            parts = urlsplit(url)
            port = parts.port
        except (ValueError, TypeError, AttributeError):
            raise EgressError("unreachable", "The address is not a valid http(s) URL.") from None
        scheme = parts.scheme.lower()
        if scheme not in ("http", "https"):
            raise EgressError("blocked_address", "Only http and https URLs can be called.")
        if "@" in parts.netloc:
            raise EgressError("blocked_address", "URLs with a user name or password are refused: "
                                                 "put credentials in the credential fields.")
        host = normalize_host_name(parts.hostname or "")
        if host is None:
            raise EgressError("unreachable", "The address is not a valid http(s) URL: "
                                             "its host name is missing or malformed.")
        # Percent-encode what may not appear on a request line (spaces, controls, non-ASCII);
        # existing escapes and delimiters stay as they are.
        target = quote(parts.path or "/", safe=string.punctuation)
        if parts.query:
            target += "?" + quote(parts.query, safe=string.punctuation)
        return cls(scheme, host, port or (443 if scheme == "https" else 80), target)

    @property
    def authority(self) -> str:
        """host[:port] as in a Host header (and in messages)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        default_port = 443 if self.scheme == "https" else 80
        return host if self.port == default_port else f"{host}:{self.port}"


@dataclasses.dataclass(frozen=True)
class EgressResponse:
    """An HTTP response: `headers` is case-insensitive, `body` at most `max_body` bytes."""

    status: int
    headers: Any = dataclasses.field(repr=False)
    # The body may hold secrets (an installation token GitHub just issued): kept out of repr.
    body: bytes = dataclasses.field(repr=False)
    truncated: bool = False  # the body was longer than max_body and was cut there

    def json(self) -> Any:
        """The body parsed as JSON; ValueError if it is not JSON or was truncated."""
        if self.truncated:
            raise ValueError("the response body was too large and was cut short")
        return jsonlib.loads(self.body)

    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")


class _Deadline:
    def __init__(self, seconds: float):
        self.seconds = seconds
        self._at = time.monotonic() + seconds

    def remaining(self) -> float:
        return self._at - time.monotonic()

    def expired(self) -> bool:
        return self.remaining() <= 0


class _Watchdog:
    """Shuts a connection's socket down when the deadline passes.

    Socket timeouts bound each read, not the whole exchange: a server sending one byte a second
    would keep a reader busy forever. Shutting the socket down wakes any blocked read at once.
    """

    def __init__(self, connection: HTTPConnection, seconds: float):
        self.fired = False
        self._connection = connection
        self._lock = threading.Lock()
        self._done = False
        self._timer = threading.Timer(max(seconds, 0.0), self._fire)
        self._timer.daemon = True

    def __enter__(self) -> "_Watchdog":
        self._timer.start()
        return self

    def __exit__(self, *exc_info) -> None:
        with self._lock:
            self._done = True
        self._timer.cancel()

    def _fire(self) -> None:
        with self._lock:
            if self._done:
                return
            self.fired = True
            sock = self._connection.sock
            if sock is not None:
                try:
                    # The plain socket's shutdown, also on a TLS socket: SSLSocket.shutdown
                    # would tear down TLS state that the reading thread is still using.
                    socket.socket.shutdown(sock, socket.SHUT_RDWR)
                except OSError:
                    pass


def _resolve(host: str, port: int, deadline: _Deadline) -> list[IPAddress]:
    """Every address `host` resolves to, looked up once, within the deadline.

    getaddrinfo has no timeout of its own, so it runs in a helper thread that is abandoned (it
    ends when the resolver gives up) if it outlives the deadline.
    """
    outcome: dict[str, Any] = {}

    def lookup() -> None:
        try:
            outcome["infos"] = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError) as exc:
            outcome["error"] = exc

    thread = threading.Thread(target=lookup, name="hub-egress-resolve", daemon=True)
    thread.start()
    thread.join(max(deadline.remaining(), 0.0))
    if thread.is_alive():
        raise EgressError("timeout", f"Looking up {host} took longer than {deadline.seconds:g} s.")
    if "error" in outcome:
        raise EgressError("unreachable", f"Could not resolve the host name {host}: check the "
                                         "address, and that this server can resolve it.")
    addresses: list[IPAddress] = []
    for _family, _type, _proto, _canonname, sockaddr in outcome["infos"]:
        address = ipaddress.ip_address(sockaddr[0])
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise EgressError("unreachable", f"The host name {host} resolves to no address.")
    return addresses


def _check_header_values(headers: dict[str, str]) -> None:
    # http.client would refuse these too, but in an exception that quotes the value: a credential.
    for name, value in headers.items():
        if not isinstance(value, str) or re.search(r"[\r\n\0]", value):
            raise EgressError("unreachable", f"Refusing to send the {name} header: its value is "
                                             "not a single line of text.")
        try:
            value.encode("latin-1")
        except UnicodeEncodeError:
            raise EgressError("unreachable", f"Refusing to send the {name} header: its value "
                                             "holds characters that HTTP headers cannot carry."
                              ) from None


class EgressClient:
    """Implements `hub.sdk.HttpClient` under the address policy described above."""

    def __init__(self, timeout: float = DEFAULT_TIMEOUT, allow: AllowList | None = None,
                 max_body: int = DEFAULT_MAX_BODY, ssl_context: ssl.SSLContext | None = None):
        """`ssl_context`: certificates to trust (default: the system's CA store)."""
        self.timeout = float(timeout)
        self.allow = allow or AllowList()
        self.max_body = max_body
        self.ssl_context = ssl_context

    def __repr__(self) -> str:
        return f"EgressClient(timeout={self.timeout:g}, allow={self.allow!r})"

    def request(self, method: str, url: str, *, headers: dict | None = None, json: Any = None,
                data: bytes | None = None) -> EgressResponse:
        """Send one request and return the response (3xx included: redirects are not followed).

        Raises EgressError: `blocked_address` (refused by policy, before any connection),
        `unreachable` (no answer, or not HTTP) or `timeout` (the overall deadline passed).
        """
        if json is not None and data is not None:
            raise TypeError("pass json or data, not both")
        deadline = _Deadline(self.timeout)
        target = _Target.parse(url)
        self._refuse_plain_http(target, addresses=None)
        addresses = _resolve(target.host, target.port, deadline)
        self._refuse_blocked_addresses(target, addresses)
        self._refuse_plain_http(target, addresses)

        send_headers = urllib3.HTTPHeaderDict({
            "User-Agent": USER_AGENT,
            "Accept-Encoding": "identity",
            "Connection": "close",
        })
        send_headers.update(headers or {})
        body = data
        if json is not None:
            body = jsonlib.dumps(json, separators=(",", ":")).encode("utf-8")
            send_headers.setdefault("Content-Type", "application/json")
        send_headers["Host"] = target.authority  # the name the URL gave, whatever we connect to
        _check_header_values(dict(send_headers.items()))
        return self._exchange(target, addresses, method.upper(), send_headers, body, deadline)

    # -- policy ----------------------------------------------------------------------------------

    def _refuse_blocked_addresses(self, target: _Target, addresses: list[IPAddress]) -> None:
        for address in addresses:
            shown = target.host if target.host == str(address) else \
                f"{target.host} (which resolves to {address})"
            if (_embedded_ipv4(address) or address) in METADATA_ADDRESSES:
                raise EgressError("blocked_address", f"Refusing to call {shown}: it is a cloud "
                                                     "metadata address, which checks never call.")
            if is_public_address(address) or self.allow.allows_name(target.host) \
                    or self.allow.allows_address(address):
                continue
            raise EgressError("blocked_address", f"Refusing to call {shown}: it is not a public "
                                                 f"address; {_MESSAGE_ALLOW_HINT}.")

    def _refuse_plain_http(self, target: _Target, addresses: list[IPAddress] | None) -> None:
        """Plain http only to an allowed host. Before the lookup (addresses None), refuse what
        no resolved address could make acceptable; after it, judge the addresses."""
        if target.scheme == "https" or self.allow.allows_name(target.host):
            return
        if addresses is None:
            if self.allow.networks:
                return
        elif all(self.allow.allows_address(a) for a in addresses):
            return
        raise EgressError("blocked_address", f"Refusing plain http to {target.host}: use https, "
                                             f"or {_MESSAGE_ALLOW_HINT} over http.")

    # -- transport -------------------------------------------------------------------------------

    def _exchange(self, target: _Target, addresses: list[IPAddress], method: str,
                  headers: urllib3.HTTPHeaderDict, body: bytes | None,
                  deadline: _Deadline) -> EgressResponse:
        refused = None
        for address in addresses:
            if deadline.expired():
                break
            connection = self._connection_to(target, address, deadline)
            with _Watchdog(connection, deadline.remaining()) as watchdog:
                try:
                    connection.connect()
                except NewConnectionError as exc:  # before ConnectTimeoutError: it subclasses it
                    refused = exc
                    connection.close()
                    continue  # the next checked address, if any
                except Exception as exc:
                    connection.close()
                    raise self._connect_error(target, exc, watchdog.fired) from None
                try:
                    return self._send_and_read(connection, target, method, headers, body, watchdog)
                finally:
                    connection.close()
        if refused is None or deadline.expired():
            raise EgressError("timeout", f"{target.authority} did not answer within "
                                         f"{deadline.seconds:g} s.")
        raise EgressError("unreachable", f"Could not connect to {target.authority}: the "
                                         "connection was refused or the network is unreachable.")

    def _connection_to(self, target: _Target, address: IPAddress,
                       deadline: _Deadline) -> HTTPConnection:
        """A connection to the checked address; TLS name and certificate check for the URL's."""
        timeout = max(deadline.remaining(), 0.001)
        if target.scheme == "http":
            return HTTPConnection(str(address), target.port, timeout=timeout)
        return HTTPSConnection(str(address), target.port, timeout=timeout,
                               server_hostname=target.host, assert_hostname=target.host,
                               ssl_context=self.ssl_context)

    def _send_and_read(self, connection: HTTPConnection, target: _Target, method: str,
                       headers: urllib3.HTTPHeaderDict, body: bytes | None,
                       watchdog: _Watchdog) -> EgressResponse:
        try:
            connection.request(method, target.request_target, body=body, headers=headers,
                               preload_content=False)
            response = connection.getresponse()
            chunks, size = [], 0
            while size <= self.max_body:
                chunk = response.read(min(64 * 1024, self.max_body + 1 - size))
                if not chunk:
                    break
                chunks.append(chunk)
                size += len(chunk)
        except Exception as exc:
            raise self._exchange_error(target, exc, watchdog.fired) from None
        if watchdog.fired:  # the shutdown may have looked like a clean end of the body
            raise EgressError("timeout", f"{target.authority} did not answer within "
                                         f"{self.timeout:g} s.")
        content = b"".join(chunks)
        return EgressResponse(status=response.status, headers=response.headers,
                              body=content[:self.max_body], truncated=size > self.max_body)

    # -- error mapping ---------------------------------------------------------------------------

    def _connect_error(self, target: _Target, exc: Exception, fired: bool) -> EgressError:
        if fired or isinstance(exc, (TimeoutError, socket.timeout, Urllib3Timeout)):
            return EgressError("timeout", f"Connecting to {target.authority} took longer than "
                                          f"{self.timeout:g} s.")
        if isinstance(exc, (ssl.SSLError, ssl.CertificateError, SSLError, HostnameMismatch)):
            return EgressError("unreachable", f"The TLS handshake with {target.authority} failed"
                                              f"{_tls_reason(exc)}; the server must present a "
                                              "valid certificate for that name.")
        return EgressError("unreachable", f"Could not connect to {target.authority}.")

    def _exchange_error(self, target: _Target, exc: Exception, fired: bool) -> EgressError:
        if fired or isinstance(exc, (TimeoutError, socket.timeout, Urllib3Timeout)):
            return EgressError("timeout", f"{target.authority} did not answer within "
                                          f"{self.timeout:g} s.")
        if isinstance(exc, (http.client.HTTPException, ProtocolError, Urllib3Error, OSError)):
            return EgressError("unreachable", f"{target.authority} closed the connection or did "
                                              "not answer with valid HTTP.")
        return EgressError("unreachable", f"The request to {target.authority} failed.")


def _tls_reason(exc: Exception) -> str:
    """The local verifier's reason (e.g. a host name mismatch): never text from the server."""
    if isinstance(exc, HostnameMismatch):
        return f" ({exc})"  # "hostname 'x' doesn't match 'y'", from the certificate's names
    reason = getattr(exc, "verify_message", None)
    return f" ({reason})" if reason else ""
