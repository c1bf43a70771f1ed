"""Black-box test harness for sessiond (Python 3.11 standard library only).

* ``Server``: starts the real binary on ``--port 0`` with a temporary ``--data-dir``, reads the
  port from its "sessiond listening on http://127.0.0.1:PORT" stdout line, polls ``/healthz``
  until it answers 200, captures everything the process writes (stdout and stderr), and stops it
  with SIGTERM (``stop`` returns the exit status; callers assert it is 0).
* ``Client``: a tiny HTTP client for one "device": a cookie jar fed by Set-Cookie (honouring
  ``Max-Age=0`` deletions), an optional ``Origin`` header on POSTs, JSON and form helpers.
* ``Response``: status, headers (ordered list of tuples with case-insensitive lookup, repeated
  Set-Cookie kept), body bytes and the parsed JSON.
* ``raw_exchange``: send arbitrary bytes over a plain socket (malformed input) and read what
  comes back.

Nothing here sleeps to wait for the server: waits are on pipes, sockets and process exit, each
with a bound.
"""

from __future__ import annotations

import base64
import datetime as _dt
import hashlib
import hmac
import http.client
import json
import os
import re
import signal
import socket
import subprocess
import tempfile
import threading
import time
import unittest
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

# ---------------------------------------------------------------------------------------------
# Constants shared by the tests.

# A fixed 40-character secret (sessiond requires at least 32).
TEST_SECRET = "integration-test-secret-0123456789abcdef"
assert len(TEST_SECRET) == 40

COOKIE_NAME = "better-auth.session_token"
LISTENING_RE = re.compile(rb"sessiond listening on http://127\.0\.0\.1:(\d+)")
ISO_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
USER_KEYS = {"name", "email", "emailVerified", "image", "createdAt", "updatedAt", "id"}
# Better Auth's session keys plus sessiond's userAgentParsed (the parsed user agent).
SESSION_KEYS = {"expiresAt", "token", "createdAt", "updatedAt", "ipAddress", "userAgent",
                "userId", "id", "userAgentParsed"}
DEFAULT_PASSWORD = "correct-horse-battery"
DEFAULT_USER_AGENT = "sessiond-integration-tests/1.0"

START_TIMEOUT_S = 15.0      # Until the "listening" line.
HEALTH_TIMEOUT_S = 10.0     # Until /healthz answers 200 after that.
STOP_TIMEOUT_S = 8.0        # SIGTERM → exit.
REQUEST_TIMEOUT_S = 15.0    # Any single HTTP exchange.

# Fast password hashing for every class except the one that checks the real cost.
FAST_HASH_ARGS = ["--set", "password.argon2MemoryKib=64", "--set", "password.argon2Iterations=1"]
FAST_HASH_ENV = {"SESSIOND_INSECURE_FAST_HASH_FOR_TESTS": "1"}


def binary_path() -> str:
    """The sessiond binary: $SESSIOND_BIN (set by ctest), else the dev preset's build output."""
    path = os.environ.get("SESSIOND_BIN")
    if not path:
        path = str(Path(__file__).resolve().parents[2] / "build" / "dev" / "sessiond")
    if not os.access(path, os.X_OK):
        raise RuntimeError(f"sessiond binary not found or not executable: {path} "
                           "(set SESSIOND_BIN)")
    return path


def clean_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The test process's environment without any SESSIOND_* variable, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SESSIOND_")}
    if extra:
        env.update(extra)
    return env


def unique_email(tag: str = "user") -> str:
    return f"{tag}-{base64.b32encode(os.urandom(10)).decode().lower()}@example.com"


# ---------------------------------------------------------------------------------------------
# Signed-token helpers (the wire format is public: "<token>.<base64 HMAC-SHA256(secret, token)>").

def sign(token: str, secret: str = TEST_SECRET) -> str:
    mac = hmac.new(secret.encode(), token.encode(), hashlib.sha256).digest()
    return f"{token}.{base64.b64encode(mac).decode()}"


def encode_uri_component(s: str) -> str:
    """JavaScript's encodeURIComponent (what better-call uses for cookie values)."""
    return urllib.parse.quote(s, safe="-_.!~*'()")


def parse_iso(s: str) -> _dt.datetime:
    return _dt.datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=_dt.timezone.utc)


def now_utc() -> _dt.datetime:
    return _dt.datetime.now(_dt.timezone.utc)


# ---------------------------------------------------------------------------------------------
# Responses and cookies.

class Headers:
    """Ordered (name, value) pairs with case-insensitive lookup."""

    def __init__(self, items: Iterable[tuple[str, str]]):
        self.items: list[tuple[str, str]] = list(items)

    def get(self, name: str, default: str | None = None) -> str | None:
        name = name.lower()
        for k, v in self.items:
            if k.lower() == name:
                return v
        return default

    def get_all(self, name: str) -> list[str]:
        name = name.lower()
        return [v for k, v in self.items if k.lower() == name]

    def __contains__(self, name: str) -> bool:
        return self.get(name) is not None

    def __repr__(self) -> str:
        return f"Headers({self.items!r})"


@dataclass
class SetCookie:
    name: str
    value: str                      # As written on the wire (percent-encoded).
    attrs: dict[str, str]           # Lower-cased attribute names → value ("" for flags).
    raw: str

    @property
    def max_age(self) -> int | None:
        v = self.attrs.get("max-age")
        return int(v) if v is not None else None

    @property
    def deletes(self) -> bool:
        return self.max_age is not None and self.max_age <= 0

    @property
    def decoded_value(self) -> str:
        return urllib.parse.unquote(self.value)


def parse_set_cookie(line: str) -> SetCookie:
    parts = line.split(";")
    name, _, value = parts[0].partition("=")
    attrs: dict[str, str] = {}
    for part in parts[1:]:
        k, _, v = part.strip().partition("=")
        attrs[k.strip().lower()] = v.strip()
    return SetCookie(name.strip(), value.strip(), attrs, line)


_NO_JSON = object()


@dataclass
class Response:
    status: int
    reason: str
    headers: Headers
    body: bytes
    json: Any = None          # Parsed body, or _NO_JSON when it does not parse.

    @property
    def has_json(self) -> bool:
        return self.json is not _NO_JSON

    @property
    def set_cookies(self) -> list[SetCookie]:
        return [parse_set_cookie(v) for v in self.headers.get_all("set-cookie")]

    def set_cookie(self, name: str = COOKIE_NAME) -> SetCookie | None:
        for c in self.set_cookies:
            if c.name == name:
                return c
        return None

    def describe(self) -> str:
        return f"{self.status} {self.reason} {self.headers.items!r} {self.body[:600]!r}"


def _parse_json(body: bytes) -> Any:
    try:
        return json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return _NO_JSON


# ---------------------------------------------------------------------------------------------
# The server process.

class Server:
    """One sessiond process on an ephemeral port with its own data directory."""

    def __init__(self, *, args: list[str] | None = None, env: dict[str, str] | None = None,
                 secret: str | None = TEST_SECRET, fast_hash: bool = True,
                 data_dir: str | None = None, subcommand: list[str] | None = None,
                 rate_limit: bool = False):
        self._tmp: tempfile.TemporaryDirectory | None = None
        if data_dir is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="sessiond-it-")
            data_dir = self._tmp.name
        self.data_dir = data_dir
        extra_env: dict[str, str] = {}
        if secret is not None:
            extra_env["SESSIOND_SECRET"] = secret
        if fast_hash:
            extra_env.update(FAST_HASH_ENV)
        if not rate_limit:
            # Suites sign up many users from one IP; test_rate_limit.py turns it back on.
            extra_env["SESSIOND_RATE_LIMIT_ENABLED"] = "false"
        if env:
            extra_env.update(env)
        self.env = clean_env(extra_env)
        self.argv = [binary_path(), *(subcommand or []), "--port", "0", "--data-dir", data_dir,
                     *(FAST_HASH_ARGS if fast_hash else []), *(args or [])]
        self.proc: subprocess.Popen | None = None
        self.port: int | None = None
        self._out = bytearray()
        self._err = bytearray()
        self._lock = threading.Condition()
        self._readers: list[threading.Thread] = []
        self.returncode: int | None = None

    # -- output capture -------------------------------------------------------------------

    def _pump(self, stream, buf: bytearray) -> None:
        while True:
            chunk = stream.read1(65536) if hasattr(stream, "read1") else stream.read(65536)
            if not chunk:
                break
            with self._lock:
                buf.extend(chunk)
                self._lock.notify_all()
        with self._lock:
            self._lock.notify_all()

    @property
    def stdout(self) -> str:
        with self._lock:
            return self._out.decode("utf-8", "replace")

    @property
    def stderr(self) -> str:
        with self._lock:
            return self._err.decode("utf-8", "replace")

    @property
    def output_bytes(self) -> bytes:
        with self._lock:
            return bytes(self._out) + b"\n" + bytes(self._err)

    # -- lifecycle --------------------------------------------------------------------------

    def start(self) -> "Server":
        self.proc = subprocess.Popen(self.argv, env=self.env, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for stream, buf in ((self.proc.stdout, self._out), (self.proc.stderr, self._err)):
            t = threading.Thread(target=self._pump, args=(stream, buf), daemon=True)
            t.start()
            self._readers.append(t)
        deadline = time.monotonic() + START_TIMEOUT_S
        outcome = "timeout"
        with self._lock:
            while True:
                m = LISTENING_RE.search(self._out)
                if m:
                    self.port = int(m.group(1))
                    outcome = "listening"
                    break
                if self.proc.poll() is not None:
                    outcome = "exited"
                    break
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._lock.wait(min(remaining, 0.1))
        if outcome == "exited":
            for t in self._readers:
                t.join(timeout=2)  # Drain what the process wrote before it exited.
            raise RuntimeError(f"sessiond exited with {self.proc.returncode} before listening\n"
                               f"argv: {self.argv}\nstdout: {self.stdout}\nstderr: {self.stderr}")
        if outcome == "timeout":
            self._kill()
            raise RuntimeError(f"sessiond did not print its listening line within "
                               f"{START_TIMEOUT_S}s\nstdout: {self.stdout}\nstderr: {self.stderr}")
        self._wait_healthy()
        return self

    def _wait_healthy(self) -> None:
        deadline = time.monotonic() + HEALTH_TIMEOUT_S
        last: str = ""
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"sessiond exited with {self.proc.returncode} before healthy\n"
                                   f"stderr: {self.stderr}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=1.0)
                conn.request("GET", "/healthz")
                r = conn.getresponse()
                r.read()
                conn.close()
                if r.status == 200:
                    return
                last = f"status {r.status}"
            except OSError as e:
                last = repr(e)
            # Short poll interval inside a bounded loop; waiting on the process also notices
            # an early exit at once.
            try:
                self.proc.wait(timeout=0.02)
            except subprocess.TimeoutExpired:
                pass
        self._kill()
        raise RuntimeError(f"sessiond /healthz not 200 within {HEALTH_TIMEOUT_S}s: {last}")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = STOP_TIMEOUT_S) -> int | None:
        """Sends `sig` and waits for the exit. Returns the exit status, or None if it had to be
        killed (did not exit within `timeout`)."""
        if self.proc is None:
            return self.returncode
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self._kill()
                self.returncode = None
                self._finish()
                return None
        self.returncode = self.proc.returncode
        self._finish()
        return self.returncode

    def _kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=5)

    def _finish(self) -> None:
        for t in self._readers:
            t.join(timeout=5)
        self._readers = []
        for s in (self.proc.stdout, self.proc.stderr):
            if s:
                s.close()
        self.proc = None

    def cleanup(self) -> None:
        self._kill()
        if self.proc is not None:
            self._finish()
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    # -- convenience --------------------------------------------------------------------------

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def client(self, **kw) -> "Client":
        return Client(self, **kw)

    def request(self, method: str, path: str, body: bytes | None = None,
                headers: dict[str, str] | list[tuple[str, Any]] | None = None) -> Response:
        return http_request(self.port, method, path, body, headers)


def http_request(port: int, method: str, path: str, body: bytes | None = None,
                 headers: dict[str, str] | list[tuple[str, Any]] | None = None,
                 timeout: float = REQUEST_TIMEOUT_S) -> Response:
    """One request on a fresh connection. `headers` may be a dict or a list of pairs (values
    may be bytes, sent as-is)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.putrequest(method, path, skip_accept_encoding=True)
        items = list(headers.items()) if isinstance(headers, dict) else list(headers or [])
        names = {k.lower() for k, _ in items}
        for k, v in items:
            conn.putheader(k, v)
        if body is not None and "content-length" not in names and \
                "transfer-encoding" not in names:
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body)
        r = conn.getresponse()
        data = r.read()
        return Response(r.status, r.reason, Headers(r.getheaders()), data, _parse_json(data))
    finally:
        conn.close()


# ---------------------------------------------------------------------------------------------
# A "device": a cookie jar and default headers.

class Client:
    def __init__(self, server: Server, *, user_agent: str = DEFAULT_USER_AGENT,
                 origin: str | None | bool = True):
        self.server = server
        self.user_agent = user_agent
        # True → the server's own origin on every POST (what a same-origin browser sends).
        self.origin = server.origin if origin is True else (origin or None)
        self.jar: dict[str, str] = {}   # name → wire value (percent-encoded)

    # -- cookies --------------------------------------------------------------------------

    def cookie_header(self) -> str | None:
        if not self.jar:
            return None
        return "; ".join(f"{k}={v}" for k, v in self.jar.items())

    def absorb(self, response: Response) -> None:
        for c in response.set_cookies:
            if c.deletes:
                self.jar.pop(c.name, None)
            else:
                self.jar[c.name] = c.value

    @property
    def session_cookie(self) -> str | None:
        return self.jar.get(COOKIE_NAME)

    # -- requests -------------------------------------------------------------------------

    def request(self, method: str, path: str, *, body: bytes | None = None,
                content_type: str | None = None, headers: dict[str, str] | None = None,
                send_cookies: bool = True, send_origin: bool = True) -> Response:
        h: dict[str, Any] = {"User-Agent": self.user_agent}
        if content_type:
            h["Content-Type"] = content_type
        if send_cookies and self.jar:
            h["Cookie"] = self.cookie_header()
        if send_origin and self.origin and method not in ("GET", "HEAD"):
            h["Origin"] = self.origin
        if headers:
            h.update(headers)
        r = self.server.request(method, path, body, h)
        self.absorb(r)
        return r

    def post_json(self, path: str, payload: Any, **kw) -> Response:
        return self.request("POST", path, body=json.dumps(payload).encode(),
                            content_type="application/json", **kw)

    def post_form(self, path: str, fields: dict[str, str], **kw) -> Response:
        return self.request("POST", path, body=urllib.parse.urlencode(fields).encode(),
                            content_type="application/x-www-form-urlencoded", **kw)

    def get(self, path: str, **kw) -> Response:
        return self.request("GET", path, **kw)

    # -- the API --------------------------------------------------------------------------

    def sign_up(self, email: str | None = None, password: str = DEFAULT_PASSWORD,
                name: str = "Test User", **extra) -> Response:
        payload = {"email": unique_email() if email is None else email, "password": password,
                   "name": name}
        payload.update(extra)
        return self.post_json("/api/auth/sign-up/email", payload)

    def sign_in(self, email: str, password: str = DEFAULT_PASSWORD, **extra) -> Response:
        payload = {"email": email, "password": password}
        payload.update(extra)
        return self.post_json("/api/auth/sign-in/email", payload)

    def get_session(self, **kw) -> Response:
        return self.get("/api/auth/get-session", **kw)

    def sign_out(self, **kw) -> Response:
        return self.request("POST", "/api/auth/sign-out", **kw)


# ---------------------------------------------------------------------------------------------
# Raw sockets.

@dataclass
class RawResponse:
    data: bytes                       # Everything read.
    closed: bool                      # The server closed (EOF or reset) before our timeout.
    status: int | None = None
    headers: Headers = field(default_factory=lambda: Headers([]))
    body: bytes = b""

    @property
    def json(self) -> Any:
        return _parse_json(self.body)


def _parse_raw(data: bytes) -> tuple[int | None, Headers, bytes, bool]:
    """(status, headers, body, complete) of the first response in `data`."""
    head, sep, rest = data.partition(b"\r\n\r\n")
    if not sep:
        return None, Headers([]), b"", False
    lines = head.split(b"\r\n")
    m = re.match(rb"HTTP/1\.[01] (\d{3})", lines[0])
    status = int(m.group(1)) if m else None
    items = []
    for line in lines[1:]:
        k, _, v = line.partition(b":")
        items.append((k.decode("latin-1").strip(), v.decode("latin-1").strip()))
    headers = Headers(items)
    cl = headers.get("content-length")
    if cl is not None and cl.isdigit():
        n = int(cl)
        return status, headers, rest[:n], len(rest) >= n
    return status, headers, rest, False


def raw_exchange(port: int, data: bytes | list[bytes], *, timeout: float = 5.0,
                 read_until_close: bool = False) -> RawResponse:
    """Sends `data` (or each chunk of a list) and reads until a complete response (per
    Content-Length) has arrived, the server closes, or `timeout` passes."""
    chunks = data if isinstance(data, list) else [data]
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    received = bytearray()
    closed = False
    try:
        try:
            for c in chunks:
                sock.sendall(c)
        except (BrokenPipeError, ConnectionResetError):
            pass  # The server may answer and close before taking everything; read what it said.
        deadline = time.monotonic() + timeout
        while True:
            if not read_until_close:
                status, _, _, complete = _parse_raw(bytes(received))
                if complete:
                    break
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            sock.settimeout(remaining)
            try:
                chunk = sock.recv(65536)
            except socket.timeout:
                break
            except ConnectionResetError:
                closed = True
                break
            if not chunk:
                closed = True
                break
            received.extend(chunk)
    finally:
        sock.close()
    status, headers, body, _ = _parse_raw(bytes(received))
    return RawResponse(bytes(received), closed, status, headers, body)


# ---------------------------------------------------------------------------------------------
# Base test class.

class ServerTestCase(unittest.TestCase):
    """Starts one server for the class (configured by the class attributes) and stops it with
    SIGTERM afterwards, asserting a graceful exit with status 0."""

    server_args: list[str] = []
    server_env: dict[str, str] = {}
    server_secret: str | None = TEST_SECRET
    fast_hash: bool = True
    # False: the server runs with SESSIOND_RATE_LIMIT_ENABLED=false (see Server); True: the
    # configured (default) rate limits apply, as test_rate_limit.py needs.
    rate_limit: bool = False

    server: Server

    @classmethod
    def setUpClass(cls) -> None:
        super().setUpClass()
        cls.server = Server(args=list(cls.server_args), env=dict(cls.server_env),
                            secret=cls.server_secret, fast_hash=cls.fast_hash,
                            rate_limit=cls.rate_limit)
        try:
            cls.server.start()
        except Exception:
            cls.server.cleanup()
            raise

    @classmethod
    def tearDownClass(cls) -> None:
        try:
            alive_before_stop = cls.server.proc is not None and cls.server.proc.poll() is None
            code = cls.server.stop()
            if not alive_before_stop:
                raise AssertionError(f"sessiond died during {cls.__name__} (exit {code})\n"
                                     f"stderr tail: {cls.server.stderr[-3000:]}")
            if code != 0:
                raise AssertionError(f"sessiond did not exit 0 within {STOP_TIMEOUT_S}s after "
                                     f"SIGTERM in {cls.__name__}: {code!r}\n"
                                     f"stderr tail: {cls.server.stderr[-3000:]}")
        finally:
            cls.server.cleanup()
            super().tearDownClass()

    # -- helpers ----------------------------------------------------------------------------

    def client(self, **kw) -> Client:
        return self.server.client(**kw)

    def signed_up(self, **kw) -> tuple[Client, str, Response]:
        """A fresh device with a freshly signed-up user: (client, email, response)."""
        c = self.client()
        email = kw.pop("email", None) or unique_email()
        r = c.sign_up(email=email, **kw)
        self.assertEqual(r.status, 200, r.describe())
        return c, email, r

    def assert_error(self, r: Response, status: int, code: str | None = None,
                     message: str | None = None) -> None:
        self.assertEqual(r.status, status, r.describe())
        self.assertEqual((r.headers.get("content-type") or "").split(";")[0].strip(),
                         "application/json", r.describe())
        self.assertTrue(r.has_json, r.describe())
        self.assertIsInstance(r.json, dict, r.describe())
        self.assertIsInstance(r.json.get("code"), str, r.describe())
        self.assertIsInstance(r.json.get("message"), str, r.describe())
        self.assertTrue(r.json["message"], r.describe())
        if code is not None:
            self.assertEqual(r.json["code"], code, r.describe())
        if message is not None:
            self.assertEqual(r.json["message"], message, r.describe())

    def assert_healthy(self) -> None:
        r = self.server.request("GET", "/healthz")
        self.assertEqual(r.status, 200, r.describe())
        self.assertEqual(r.json, {"status": "ok"})

    def assert_signed_out(self, r: Response) -> None:
        self.assertEqual(r.status, 200, r.describe())
        self.assertEqual(r.body, b"null", r.describe())

    def assert_session_of(self, r: Response, user_id: str) -> None:
        self.assertEqual(r.status, 200, r.describe())
        self.assertIsInstance(r.json, dict, r.describe())
        self.assertIsInstance(r.json.get("session"), dict, r.describe())
        self.assertEqual(r.json["session"]["userId"], user_id, r.describe())
        self.assertEqual(r.json["user"]["id"], user_id, r.describe())
