"""Hostile and malformed input: every bad request gets a 4xx JSON error (or, for input that is
not HTTP at all, a 400 / a closed connection) and the server keeps serving."""

import json
import os
import socket
import time
import unittest

from sessiond_harness import (
    COOKIE_NAME, DEFAULT_PASSWORD, ServerTestCase, encode_uri_component, raw_exchange, sign,
    unique_email)

SIGN_UP = "/api/auth/sign-up/email"
SIGN_IN = "/api/auth/sign-in/email"


def raw_request(method: str, path: str, headers: list[tuple[str, str]] | None = None,
                body: bytes = b"", *, content_length: bool = True) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1"]
    for k, v in headers or []:
        lines.append(f"{k}: {v}")
    if content_length and body:
        lines.append(f"Content-Length: {len(body)}")
    lines.append("Connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


class BadInputBase(ServerTestCase):
    def post(self, path, body: bytes, content_type: str | None = "application/json", **headers):
        h = dict(headers)
        if content_type is not None:
            h["Content-Type"] = content_type
        return self.server.request("POST", path, body, h)

    def assert_raw_error(self, r, status, code=None):
        self.assertEqual(r.status, status, r.data[:500])
        if r.body:
            self.assertEqual((r.headers.get("content-type") or "").split(";")[0],
                             "application/json", r.data[:500])
            self.assertIsInstance(r.json, dict, r.data[:500])
            if code is not None:
                self.assertEqual(r.json.get("code"), code, r.data[:500])
            self.assertIsInstance(r.json.get("message"), str, r.data[:500])


class MalformedBodyTest(BadInputBase):
    def test_malformed_json(self):
        for body in (b'{"email":', b"{", b"}", b'{"email" "x"}', b"{'email': 'x'}",
                     b'{"a":1} trailing', b'{"a":1,}', b"nul", b'{"a":1 /* c */}'):
            for path in (SIGN_UP, SIGN_IN):
                with self.subTest(body=body, path=path):
                    self.assert_error(self.post(path, body), 400, "INVALID_JSON")
        self.assert_healthy()

    def test_json_that_is_not_an_object(self):
        for body in (b"[]", b'["a@b.c","pw"]', b'"a string"', b"42", b"-1.5e3", b"true",
                     b"null"):
            with self.subTest(body=body):
                self.assert_error(self.post(SIGN_IN, body), 400, "INVALID_JSON")
        self.assert_healthy()

    def test_empty_body_with_json_content_type(self):
        for path in (SIGN_UP, SIGN_IN):
            with self.subTest(path=path):
                self.assert_error(self.post(path, b""), 400, "INVALID_JSON")
                self.assert_error(self.server.request("POST", path, None,
                                                      {"Content-Type": "application/json"}),
                                  400, "INVALID_JSON")
        self.assert_healthy()

    def test_wrong_or_missing_content_type(self):
        body = json.dumps({"email": unique_email(), "password": DEFAULT_PASSWORD,
                           "name": "X"}).encode()
        for ct in ("text/plain", "text/plain; charset=utf-8", "application/xml",
                   "multipart/form-data; boundary=x", "application/jsonx", None):
            for path in (SIGN_UP, SIGN_IN):
                with self.subTest(content_type=ct, path=path):
                    self.assert_error(self.post(path, body, ct), 415, "UNSUPPORTED_MEDIA_TYPE")
        self.assert_healthy()

    def test_json_content_type_variants_are_accepted(self):
        for ct in ("application/json; charset=utf-8", "Application/JSON",
                   "application/json ; charset=UTF-8"):
            with self.subTest(content_type=ct):
                body = json.dumps({"email": unique_email(), "password": DEFAULT_PASSWORD,
                                   "name": "X"}).encode()
                r = self.post(SIGN_UP, body, ct)
                self.assertEqual(r.status, 200, r.describe())

    def test_fields_of_wrong_types(self):
        email = unique_email()
        self.assertEqual(self.client().sign_up(email=email).status, 200)
        cases = [
            (SIGN_IN, {"email": 123, "password": DEFAULT_PASSWORD}),
            (SIGN_IN, {"email": email, "password": None}),
            (SIGN_IN, {"email": email, "password": 12345678}),
            (SIGN_IN, {"email": email, "password": DEFAULT_PASSWORD, "rememberMe": "yes"}),
            (SIGN_IN, {"email": email, "password": DEFAULT_PASSWORD, "rememberMe": 1}),
            (SIGN_IN, {"email": {"$ne": ""}, "password": DEFAULT_PASSWORD}),
            (SIGN_IN, {"email": [email], "password": DEFAULT_PASSWORD}),
            (SIGN_UP, {"email": 123, "password": DEFAULT_PASSWORD, "name": "X"}),
            (SIGN_UP, {"email": unique_email(), "password": None, "name": "X"}),
            (SIGN_UP, {"email": unique_email(), "password": DEFAULT_PASSWORD, "name": "X",
                       "rememberMe": "yes"}),
            (SIGN_UP, {"email": unique_email(), "password": DEFAULT_PASSWORD, "name": True}),
        ]
        for path, payload in cases:
            with self.subTest(path=path, payload=payload):
                r = self.post(path, json.dumps(payload).encode())
                self.assert_error(r, 400, "VALIDATION_ERROR")
                self.assertEqual(r.set_cookies, [])
        self.assert_healthy()

    def test_body_over_64_kib_is_413(self):
        payload = json.dumps({"email": unique_email(), "password": DEFAULT_PASSWORD,
                              "name": "x" * (64 * 1024 + 16)}).encode()
        self.assertGreater(len(payload), 64 * 1024)
        r = raw_exchange(self.server.port, raw_request(
            "POST", SIGN_UP, [("Content-Type", "application/json")], payload))
        self.assert_raw_error(r, 413, "PAYLOAD_TOO_LARGE")
        self.assertTrue(r.body, "413 without a JSON body")
        self.assert_healthy()

    def test_body_just_under_the_limit_is_read(self):
        # 60 KiB of name: read and parsed (the name limit then rejects it as a validation error,
        # not as too large).
        payload = json.dumps({"email": unique_email(), "password": DEFAULT_PASSWORD,
                              "name": "x" * (60 * 1024)}).encode()
        r = self.post(SIGN_UP, payload)
        self.assertNotEqual(r.status, 413, r.describe())
        self.assertLess(r.status, 500, r.describe())
        self.assert_healthy()

    def test_chunked_body_over_64_kib_is_413(self):
        chunk = b"x" * 8192
        body = b'{"email":"a@example.com","password":"correct-horse-battery","name":"'
        data = (f"{len(body):x}\r\n").encode() + body + b"\r\n"
        for _ in range(9):
            data += f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
        data += b'2\r\n"}\r\n0\r\n\r\n'
        r = raw_exchange(self.server.port, raw_request(
            "POST", SIGN_UP, [("Content-Type", "application/json"),
                              ("Transfer-Encoding", "chunked")], data, content_length=False))
        self.assert_raw_error(r, 413, "PAYLOAD_TOO_LARGE")
        self.assert_healthy()

    def test_ten_kilobyte_email(self):
        email = "a" * 10_000 + "@example.com"
        r = self.client().sign_up(email=email)
        self.assert_error(r, 400, "INVALID_EMAIL")
        r = self.client().sign_in(email)
        self.assertIn(r.status, (400, 401), r.describe())
        self.assert_error(r, r.status)
        self.assert_healthy()

    def test_deeply_nested_json(self):
        for body in (b"[" * 10_000, b'{"a":' * 10_000, b"[" * 10_000 + b"]" * 10_000,
                     b'{"email":' + b"[" * 100 + b"]" * 100 + b',"password":"x","name":"y"}'):
            with self.subTest(prefix=body[:12]):
                r = self.post(SIGN_IN, body)
                self.assertEqual(r.status, 400, r.describe())
                self.assert_error(r, 400)
                self.assertIn(r.json["code"], ("INVALID_JSON", "VALIDATION_ERROR"))
        self.assert_error(self.post(SIGN_IN, b"[" * 10_000), 400, "INVALID_JSON")
        self.assert_healthy()

    def test_invalid_utf8_in_json_strings(self):
        for bad in (b"\xff\xfe", b"\xc0\xaf", b"\xed\xa0\x80", b"\xe2\x82", b"caf\xe9"):
            with self.subTest(bytes=bad):
                body = (b'{"email":"x' + bad + b'@example.com","password":"'
                        b'correct-horse-battery","name":"X"}')
                self.assert_error(self.post(SIGN_UP, body), 400, "INVALID_JSON")
                body = (b'{"email":"' + unique_email().encode() + b'","password":"'
                        b'correct-horse-battery","name":"X' + bad + b'"}')
                self.assert_error(self.post(SIGN_UP, body), 400, "INVALID_JSON")
        self.assert_healthy()

    def test_nul_bytes_in_password_are_kept(self):
        email = unique_email("nul")
        password = "correct\u0000horse-battery"
        body = json.dumps({"email": email, "password": password, "name": "Nul"})
        self.assertIn("\\u0000", body)
        r = self.post(SIGN_UP, body.encode())
        self.assertEqual(r.status, 200, r.describe())
        r = self.client().sign_in(email, password)
        self.assertEqual(r.status, 200, r.describe())
        for truncated in ("correct", "correct\u0000", "correcthorse-battery"):
            with self.subTest(password=truncated):
                r = self.client().sign_in(email, truncated)
                self.assert_error(r, 401, "INVALID_EMAIL_OR_PASSWORD")
        self.assert_healthy()

    def test_unicode_password(self):
        email = unique_email("uni")
        password = "pässwörd-ünïcode-🔑"
        self.assertEqual(self.client().sign_up(email=email, password=password).status, 200)
        self.assertEqual(self.client().sign_in(email, password).status, 200)
        r = self.client().sign_in(email, "passwort-unicode-🔑")
        self.assert_error(r, 401, "INVALID_EMAIL_OR_PASSWORD")


class OddCookieTest(BadInputBase):
    def get_session_with_cookie(self, cookie):
        return self.server.request("GET", "/api/auth/get-session", headers=[("Cookie", cookie)])

    def test_odd_cookie_headers_give_null(self):
        garbage = os.urandom(3000).hex()[:4096]
        cases = [
            f"{COOKIE_NAME}=",
            "=;;;",
            ";;;;",
            "=",
            f"{COOKIE_NAME}",
            f"{COOKIE_NAME}=;",
            f"{COOKIE_NAME}={garbage}",
            garbage,
            f"{COOKIE_NAME}=%",
            f"{COOKIE_NAME}=%ZZ%",
            f'{COOKIE_NAME}="quoted.value"',
            f"{COOKIE_NAME}=....",
            f"{COOKIE_NAME}={'A' * 43}.{'B' * 43}=",           # right shape, bad signature
            f"{COOKIE_NAME}={encode_uri_component(sign('short'))}",  # signed, wrong length
            f"{COOKIE_NAME}={encode_uri_component(sign('A' * 43))}",  # signed, unknown token
            f"{COOKIE_NAME}={encode_uri_component(sign('A' * 43))[:-3]}",
            b"better-auth.session_token=\xff\xfe\xc3\xa9\x80.x",  # non-ASCII bytes
            b"\xc3\xa9t\xc3\xa9=\xff; better-auth.session_token=\xe2\x82\xac",
        ]
        for cookie in cases:
            with self.subTest(cookie=cookie[:80]):
                r = self.get_session_with_cookie(cookie)
                self.assert_signed_out(r)
                self.assertEqual(r.headers.get("cache-control"), "no-store")
        self.assert_healthy()

    def test_nul_in_cookie_header(self):
        # RFC 9110 §5.5: a NUL in a field value is rejected (400) or treated as a space.
        r = self.get_session_with_cookie(b"better-auth.session_token=abc\x00def")
        if r.status == 400:
            self.assert_error(r, 400, "BAD_REQUEST")
        else:
            self.assert_signed_out(r)
        self.assert_healthy()

    def test_odd_cookies_on_session_route(self):
        for cookie in (f"{COOKIE_NAME}=", "=;;;", f"{COOKIE_NAME}={'A' * 43}.{'B' * 43}="):
            with self.subTest(cookie=cookie):
                r = self.server.request("GET", "/api/auth/session",
                                        headers={"Cookie": cookie})
                self.assertEqual(r.status, 200, r.describe())
                self.assertEqual(r.json, {"session": None, "user": None})

    def test_odd_cookies_on_sign_out(self):
        for cookie in (f"{COOKIE_NAME}=", "=;;;", b"better-auth.session_token=\xff"):
            with self.subTest(cookie=cookie):
                r = self.server.request("POST", "/api/auth/sign-out", b"{}", [
                    ("Cookie", cookie), ("Origin", self.server.origin),
                    ("Content-Type", "application/json")])
                self.assertEqual(r.status, 200, r.describe())
                self.assertEqual(r.json, {"success": True})
        self.assert_healthy()

    def test_odd_authorization_headers(self):
        for value in ("Bearer", "Bearer ", "Bearer  ", "Basic dXNlcjpwYXNz", "Bearer a.b.c",
                      "bearer " + "x" * 4000, b"Bearer \xff\xfe\x80"):
            with self.subTest(value=value[:40]):
                r = self.server.request("GET", "/api/auth/get-session",
                                        headers=[("Authorization", value)])
                self.assert_signed_out(r)
        self.assert_healthy()


class RawProtocolTest(BadInputBase):
    def assert_400_or_closed(self, r):
        if r.status is None:
            self.assertTrue(r.closed, f"no response and not closed: {r.data[:200]!r}")
            self.assertEqual(r.data, b"", "bytes that are not an HTTP response")
        else:
            self.assertEqual(r.status, 400, r.data[:300])

    def test_garbage_request_lines(self):
        for data in (b"HELLO\r\n\r\n", b"\x00\x01\x02\xff\xfe\r\n\r\n",
                     b"GET\r\n\r\n", b"GET / HTTP/1.1 extra\r\n\r\n",
                     b"GET /healthz HTTP/1.1\r\nthis is not a header\r\n\r\n",
                     b"GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
                     b"POST /api/auth/sign-in/email HTTP/1.1\r\nHost: x\r\n"
                     b"Content-Length: -5\r\n\r\n",
                     b"GET /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                     b"zz\r\n"):
            with self.subTest(data=data[:40]):
                self.assert_400_or_closed(raw_exchange(self.server.port, data, timeout=5))
                self.assert_healthy()

    def test_http11_without_host_is_400(self):
        r = raw_exchange(self.server.port, b"GET /healthz HTTP/1.1\r\n\r\n")
        self.assert_raw_error(r, 400, "BAD_REQUEST")
        r = raw_exchange(self.server.port,
                         b"GET /healthz HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n")
        self.assert_raw_error(r, 400, "BAD_REQUEST")
        self.assert_healthy()

    def test_content_length_with_transfer_encoding_is_rejected(self):
        # Request smuggling: both framings at once (RFC 9112 §6.1).
        data = (b"POST /api/auth/sign-in/email HTTP/1.1\r\nHost: x\r\n"
                b"Content-Type: application/json\r\nContent-Length: 5\r\n"
                b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n")
        self.assert_400_or_closed(raw_exchange(self.server.port, data))
        self.assert_healthy()

    def test_http10_request(self):
        r = raw_exchange(self.server.port, b"GET /healthz HTTP/1.0\r\n\r\n",
                         read_until_close=True)
        self.assertEqual(r.status, 200, r.data)
        self.assertEqual(r.json, {"status": "ok"})

    def test_headers_over_8_kib_are_431(self):
        big_one = raw_request("GET", "/healthz", [("X-Big", "a" * 9000)])
        many = raw_request("GET", "/healthz", [(f"X-H{i}", "b" * 60) for i in range(200)])
        big_cookie = raw_request("GET", "/api/auth/get-session",
                                 [("Cookie", f"{COOKIE_NAME}={'c' * 9000}")])
        for data in (big_one, many, big_cookie):
            with self.subTest(size=len(data)):
                r = raw_exchange(self.server.port, data)
                self.assert_raw_error(r, 431, "REQUEST_HEADER_FIELDS_TOO_LARGE")
                self.assert_healthy()

    def test_headers_just_under_the_limit_are_fine(self):
        r = raw_exchange(self.server.port, raw_request("GET", "/healthz",
                                                       [("X-Big", "a" * 6000)]))
        self.assertEqual(r.status, 200, r.data[:300])

    def test_chunked_request_body(self):
        email = unique_email("chunked")
        self.assertEqual(self.client().sign_up(email=email).status, 200)
        body = json.dumps({"email": email, "password": DEFAULT_PASSWORD}).encode()
        half = len(body) // 2
        data = (f"{half:x}\r\n".encode() + body[:half] + b"\r\n" +
                f"{len(body) - half:x}\r\n".encode() + body[half:] + b"\r\n0\r\n\r\n")
        r = raw_exchange(self.server.port, raw_request(
            "POST", SIGN_IN, [("Content-Type", "application/json"),
                              ("Transfer-Encoding", "chunked")], data, content_length=False))
        self.assertEqual(r.status, 200, r.data[:500])
        self.assertEqual(r.json["user"]["email"], email)

    def _expect_continue(self, body: bytes, send_body_without_100: bool = False):
        sock = socket.create_connection(("127.0.0.1", self.server.port), timeout=5)
        try:
            sock.sendall((f"POST {SIGN_IN} HTTP/1.1\r\nHost: x\r\n"
                          f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
                          f"Expect: 100-continue\r\nConnection: close\r\n\r\n").encode())
            first = sock.recv(65536)
            interim = first.startswith(b"HTTP/1.1 100")
            if interim:
                first = first.partition(b"\r\n\r\n")[2]
                sock.sendall(body)
            data = first
            while True:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                data += chunk
        except ConnectionResetError:
            pass
        finally:
            sock.close()
        return interim, data

    def test_expect_100_continue(self):
        # curl sends "Expect: 100-continue" for bodies over 1 KiB.
        _, email, _ = self.signed_up()
        body = json.dumps({"email": email, "password": DEFAULT_PASSWORD,
                           "padding": "p" * 2000}).encode()
        interim, data = self._expect_continue(body)
        self.assertTrue(interim, "no 100 Continue for an acceptable request")
        self.assertTrue(data.startswith(b"HTTP/1.1 200"), data[:300])

    def test_expect_100_continue_over_the_limit(self):
        interim, data = self._expect_continue(b"x" * (100 * 1024))
        self.assertTrue(data.startswith(b"HTTP/1.1 413"), data[:300])
        self.assertFalse(interim, "100 Continue invited a body that is then refused")
        self.assert_healthy()

    def test_pipelined_requests(self):
        one = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
        two = b"GET /readyz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        r = raw_exchange(self.server.port, one + two, read_until_close=True, timeout=5)
        self.assertTrue(r.closed)
        self.assertEqual(r.data.count(b"HTTP/1.1 200"), 2, r.data)
        self.assertLess(r.data.index(b'{"status":"ok"}'), r.data.index(b'{"status":"ready"}'))

    def test_head_healthz(self):
        r = raw_exchange(self.server.port, raw_request("HEAD", "/healthz"),
                         read_until_close=True)
        self.assertEqual(r.status, 200, r.data)
        self.assertEqual(r.data.partition(b"\r\n\r\n")[2], b"", "HEAD must not send a body")

    def test_half_closed_client_gets_its_answer(self):
        sock = socket.create_connection(("127.0.0.1", self.server.port), timeout=5)
        try:
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            sock.shutdown(socket.SHUT_WR)
            data = b""
            while True:
                chunk = sock.recv(4096)
                if not chunk:
                    break
                data += chunk
        finally:
            sock.close()
        self.assertTrue(data.startswith(b"HTTP/1.1 200"), data)


class SlowClientTest(BadInputBase):
    """limits.readTimeoutMs: a request must arrive whole within this time."""

    server_args = ["--set", "limits.readTimeoutMs=500"]

    def assert_disconnected(self, data: bytes):
        sock = socket.create_connection(("127.0.0.1", self.server.port), timeout=5)
        start = time.monotonic()
        received = b""
        closed = False
        try:
            if data:
                sock.sendall(data)
            deadline = start + 5
            while time.monotonic() < deadline:
                sock.settimeout(max(0.01, deadline - time.monotonic()))
                try:
                    chunk = sock.recv(4096)
                except socket.timeout:
                    break
                except ConnectionResetError:
                    closed = True
                    break
                if not chunk:
                    closed = True
                    break
                received += chunk
        finally:
            sock.close()
        elapsed = time.monotonic() - start
        self.assertTrue(closed, f"still open after {elapsed:.2f}s (got {received[:200]!r})")
        self.assertGreaterEqual(elapsed, 0.35, "closed before the read timeout")
        self.assertLess(elapsed, 4.0)
        if received:
            # A 408 is allowed before the close; nothing else.
            self.assertTrue(received.startswith(b"HTTP/1.1 408"), received[:200])

    def test_stalled_headers_are_disconnected(self):
        self.assert_disconnected(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        self.assert_healthy()

    def test_stalled_body_is_disconnected(self):
        self.assert_disconnected(b"POST /api/auth/sign-in/email HTTP/1.1\r\nHost: x\r\n"
                                 b"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n"
                                 b'{"email":')
        self.assert_healthy()

    def test_silent_connection_is_disconnected(self):
        # Connects and sends nothing at all.
        self.assert_disconnected(b"")
        self.assert_healthy()

    def test_trickling_client_is_disconnected(self):
        """One byte per ~100 ms never completes a request: the read timeout covers the whole
        request, not the gap between bytes. (The pacing is the server's own silence: each byte
        follows a 100 ms recv that got nothing.)"""
        sock = socket.create_connection(("127.0.0.1", self.server.port), timeout=5)
        request = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 200
        start = time.monotonic()
        closed = False
        try:
            sock.settimeout(0.1)
            i = 0
            while time.monotonic() - start < 5 and not closed:
                try:
                    sock.send(request[i:i + 1] if i < len(request) else b"a")
                except OSError:
                    closed = True
                    break
                i += 1
                try:
                    data = sock.recv(4096)
                    if not data:
                        closed = True
                    else:
                        self.assertTrue(data.startswith(b"HTTP/1.1 408"), data[:200])
                except socket.timeout:
                    pass
                except ConnectionResetError:
                    closed = True
        finally:
            sock.close()
        elapsed = time.monotonic() - start
        self.assertTrue(closed, "a trickling client was kept for 5 s")
        self.assertGreaterEqual(elapsed, 0.35)
        self.assertLess(elapsed, 4.0)
        self.assert_healthy()

    def test_other_clients_are_served_while_one_stalls(self):
        sock = socket.create_connection(("127.0.0.1", self.server.port), timeout=5)
        try:
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
            for _ in range(5):
                self.assert_healthy()
        finally:
            sock.close()


if __name__ == "__main__":
    unittest.main()
