"""Process lifecycle: persistence across restarts, graceful shutdown, the development secret,
the real (default) password-hashing cost, and that credentials never reach the logs."""

import http.client
import os
import signal
import stat
import tempfile
import time
import unittest

from sessiond_harness import (
    COOKIE_NAME, DEFAULT_PASSWORD, TEST_SECRET, Server, ServerTestCase, encode_uri_component,
    unique_email)

GRACEFUL_BOUND_S = 5.0


def stop_and_check(test, server, sig=signal.SIGTERM, bound=GRACEFUL_BOUND_S):
    start = time.monotonic()
    code = server.stop(sig, timeout=bound)
    elapsed = time.monotonic() - start
    test.assertEqual(code, 0, f"exit status after {signal.Signals(sig).name} "
                              f"({elapsed:.2f}s; None = still running after {bound}s)\n"
                              f"stderr tail: {server.stderr[-2000:]}")
    return elapsed


class PersistenceTest(unittest.TestCase):
    def test_session_survives_restart(self):
        with tempfile.TemporaryDirectory(prefix="sessiond-persist-") as d:
            first = Server(data_dir=d)
            try:
                first.start()
                c = first.client()
                email = unique_email("persist")
                up = c.sign_up(email=email)
                self.assertEqual(up.status, 200, up.describe())
                cookie = c.session_cookie
                before = c.get_session()
                self.assertEqual(before.status, 200)
            finally:
                stop_and_check(self, first)
                first.cleanup()

            second = Server(data_dir=d)
            try:
                second.start()
                self.assertNotEqual(second.port, None)
                r = second.request("GET", "/api/auth/get-session",
                                   headers={"Cookie": f"{COOKIE_NAME}={cookie}"})
                self.assertEqual(r.status, 200, r.describe())
                self.assertEqual(r.json["user"], up.json["user"])
                self.assertEqual(r.json["session"]["id"], before.json["session"]["id"])
                self.assertEqual(r.json["session"]["token"], before.json["session"]["token"])
                self.assertEqual(r.json["session"]["expiresAt"],
                                 before.json["session"]["expiresAt"])
                # Bearer too, and the account.
                r = second.request("GET", "/api/auth/get-session", headers={
                    "Authorization": f"Bearer {up.headers.get('set-auth-token')}"})
                self.assertEqual(r.json["user"]["id"], up.json["user"]["id"])
                self.assertEqual(second.client().sign_in(email).status, 200)
                dup = second.client().sign_up(email=email)
                self.assertEqual(dup.status, 422, dup.describe())
            finally:
                stop_and_check(self, second)
                second.cleanup()

            # Same database, different secret: every signed cookie is now invalid, the
            # accounts are not.
            third = Server(data_dir=d, secret="a-completely-different-secret-0123456789")
            try:
                third.start()
                r = third.request("GET", "/api/auth/get-session",
                                  headers={"Cookie": f"{COOKIE_NAME}={cookie}"})
                self.assert_null(r)
                self.assertEqual(third.client().sign_in(email).status, 200)
            finally:
                stop_and_check(self, third)
                third.cleanup()

    def assert_null(self, r):
        self.assertEqual(r.status, 200, r.describe())
        self.assertEqual(r.body, b"null")

    def test_signed_out_session_stays_signed_out_after_restart(self):
        with tempfile.TemporaryDirectory(prefix="sessiond-persist-") as d:
            first = Server(data_dir=d)
            try:
                first.start()
                c = first.client()
                self.assertEqual(c.sign_up().status, 200)
                cookie = c.session_cookie
                self.assertEqual(c.sign_out().status, 200)
            finally:
                stop_and_check(self, first)
                first.cleanup()
            second = Server(data_dir=d)
            try:
                second.start()
                self.assert_null(second.request("GET", "/api/auth/get-session",
                                                headers={"Cookie": f"{COOKIE_NAME}={cookie}"}))
            finally:
                stop_and_check(self, second)
                second.cleanup()


class GracefulShutdownTest(unittest.TestCase):
    def test_sigterm_exits_zero(self):
        s = Server()
        try:
            s.start()
            self.assertEqual(s.client().sign_up().status, 200)
            stop_and_check(self, s)
        finally:
            s.cleanup()

    def test_sigint_exits_zero(self):
        s = Server()
        try:
            s.start()
            stop_and_check(self, s, signal.SIGINT)
        finally:
            s.cleanup()

    def test_idle_keep_alive_connection_does_not_hold_shutdown(self):
        s = Server()
        conn = None
        try:
            s.start()
            conn = http.client.HTTPConnection("127.0.0.1", s.port, timeout=10)
            conn.request("GET", "/healthz")
            r = conn.getresponse()
            r.read()
            self.assertEqual(r.status, 200)
            self.assertFalse(r.will_close, "expected a keep-alive connection")
            # The connection stays open and idle while the server is told to stop.
            stop_and_check(self, s, bound=GRACEFUL_BOUND_S)
        finally:
            if conn:
                conn.close()
            s.cleanup()

    def test_stalled_half_request_is_bounded_by_the_grace_period(self):
        # A connection that has sent part of a request counts as in flight: shutdown waits for
        # it, but no longer than limits.shutdownGraceMs (here 1 s; the default is 10 s).
        import socket
        s = Server(args=["--set", "limits.shutdownGraceMs=1000"])
        sock = None
        try:
            s.start()
            sock = socket.create_connection(("127.0.0.1", s.port), timeout=10)
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
            # Half a request on the wire; the read timeout (10 s) must not hold the exit.
            elapsed = stop_and_check(self, s, bound=GRACEFUL_BOUND_S)
            self.assertLess(elapsed, 3.0)
        finally:
            if sock:
                sock.close()
            s.cleanup()

    def test_port_is_released_after_shutdown(self):
        import socket
        s = Server()
        try:
            s.start()
            port = s.port
            stop_and_check(self, s)
        finally:
            s.cleanup()
        with self.assertRaises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", port), timeout=2).close()


class DevSecretTest(unittest.TestCase):
    def test_dev_secret_is_generated_kept_and_warned_about(self):
        with tempfile.TemporaryDirectory(prefix="sessiond-devsecret-") as d:
            s = Server(data_dir=d, secret=None)
            try:
                s.start()
                c = s.client()
                self.assertEqual(c.sign_up().status, 200)
                cookie = c.session_cookie
            finally:
                stop_and_check(self, s)
                s.cleanup()
            path = os.path.join(d, "dev-secret")
            self.assertTrue(os.path.isfile(path), os.listdir(d))
            mode = stat.S_IMODE(os.stat(path).st_mode)
            self.assertEqual(mode & 0o077, 0, f"dev-secret is readable by others: {oct(mode)}")
            with open(path) as f:
                secret = f.read().strip()
            self.assertGreaterEqual(len(secret), 32)
            self.assertIn("SESSIOND_SECRET", s.stderr)
            self.assertIn("production", s.stderr.lower())
            self.assertNotIn(secret, s.stderr + s.stdout,
                             "the dev secret itself must not be logged")

            # Restart without a secret: the same dev secret is used, so the cookie still works.
            again = Server(data_dir=d, secret=None)
            try:
                again.start()
                r = again.request("GET", "/api/auth/get-session",
                                  headers={"Cookie": f"{COOKIE_NAME}={cookie}"})
                self.assertEqual(r.status, 200, r.describe())
                self.assertIsInstance(r.json, dict, r.describe())
            finally:
                stop_and_check(self, again)
                again.cleanup()
            with open(path) as f:
                self.assertEqual(f.read().strip(), secret)

    def test_configured_secret_means_no_dev_secret_and_no_warning(self):
        with tempfile.TemporaryDirectory(prefix="sessiond-secret-") as d:
            s = Server(data_dir=d)
            try:
                s.start()
            finally:
                stop_and_check(self, s)
                s.cleanup()
            self.assertFalse(os.path.exists(os.path.join(d, "dev-secret")))
            self.assertNotIn("DEVELOPMENT secret", s.stderr)


class DefaultHashCostTest(ServerTestCase):
    """The default argon2id parameters (no test switch): the real cost end to end."""

    fast_hash = False

    def test_sign_up_and_sign_in_at_default_cost(self):
        c = self.client()
        email = unique_email("argon")
        r = c.sign_up(email=email)
        self.assertEqual(r.status, 200, r.describe())
        r = self.client().sign_in(email)
        self.assertEqual(r.status, 200, r.describe())
        self.assertEqual(self.client().sign_in(email, "wrong-password-123").status, 401)
        self.assertEqual(self.client().sign_in(unique_email("ghost")).status, 401)
        self.assertEqual(c.get_session().json["user"]["email"], email)


class LogHygieneTest(unittest.TestCase):
    """With log.level=debug, no credential (raw token, signed value, signature, password,
    secret) appears in anything the process writes."""

    def test_no_credentials_in_logs(self):
        s = Server(args=["--set", "log.level=debug"])
        secrets: set[str] = {TEST_SECRET}
        passwords = [DEFAULT_PASSWORD, "wrong-password-for-logs-1", "another-secret-pass-77"]
        try:
            s.start()
            email = unique_email("logs")
            a = s.client()
            up = a.sign_up(email=email, password=passwords[2])
            self.assertEqual(up.status, 200, up.describe())
            responses = [up]
            b = s.client()
            responses.append(b.sign_in(email, passwords[2]))
            responses.append(b.sign_in(email, passwords[2], rememberMe=False))
            self.assertEqual(b.sign_in(email, passwords[1]).status, 401)
            self.assertEqual(s.client().sign_in(unique_email("nobody"), passwords[0]).status,
                             401)
            for r in responses:
                self.assertEqual(r.status, 200, r.describe())
                signed = r.headers.get("set-auth-token")
                secrets.update({r.json["token"], signed, signed.split(".", 1)[1],
                                encode_uri_component(signed)})
            # Use the credentials every way, including ways that fail.
            for r in responses:
                signed = r.headers.get("set-auth-token")
                s.request("GET", "/api/auth/get-session",
                          headers={"Authorization": f"Bearer {signed}"})
                s.request("GET", "/api/auth/get-session",
                          headers={"Authorization": f"Bearer {r.json['token']}"})
                s.request("GET", "/api/auth/session", headers={
                    "Cookie": f"{COOKIE_NAME}={encode_uri_component(signed)}"})
                tampered = r.json["token"] + ".AAAA" + signed.split(".", 1)[1][4:]
                s.request("GET", "/api/auth/get-session", headers={
                    "Cookie": f"{COOKIE_NAME}={encode_uri_component(tampered)}"})
                # A CSRF rejection with the cookie in hand.
                s.request("POST", "/api/auth/sign-out", b"{}", {
                    "Cookie": f"{COOKIE_NAME}={encode_uri_component(signed)}",
                    "Content-Type": "application/json", "Origin": "http://evil.example"})
            self.assertEqual(a.get_session().status, 200)
            s.request("POST", "/api/auth/sign-up/email", b'{"email":', {
                "Content-Type": "application/json"})
            self.assertEqual(a.sign_out().status, 200)
            self.assertEqual(b.sign_out().status, 200)
        finally:
            code = s.stop()
            s.cleanup()
        self.assertEqual(code, 0)
        log = s.output_bytes.decode("utf-8", "replace")
        self.assertIn("listening", log)
        self.assertTrue(any(level in log.lower() for level in ("debug", "dbg")),
                        "log.level=debug produced no debug lines; the check would be vacuous")
        for secret in sorted(secrets | set(passwords)):
            self.assertNotIn(secret, log, f"credential {secret[:6]}… found in the logs")


if __name__ == "__main__":
    unittest.main()
