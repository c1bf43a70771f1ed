"""The revocation feed that lets stateless verifiers refuse access tokens of ended sessions
(GET /api/auth/revocations, JSON and server-sent events), and forward auth
(/api/auth/verify) without nginx (test_forward_auth_nginx.py puts a real nginx in front).

Every way a session ends — sign-out, revoke-session, revoke-other-sessions, revoke-sessions,
change-password — appears in the feed; the event stream delivers a revocation while it is open
and resumes from Last-Event-ID; a JWT of a revoked session is refused by /verify at once, also
after a restart.
"""

import http.client
import json
import socket
import time
import unittest

from sessiond_harness import (
    DEFAULT_PASSWORD, REQUEST_TIMEOUT_S, Server, ServerTestCase, unique_email)

FEED = "/api/auth/revocations"
VERIFY = "/api/auth/verify"
TOKEN = "/api/auth/token"


class EventStream:
    """A server-sent-events client on a plain socket (http.client decodes the chunks)."""

    def __init__(self, port: int, path: str = FEED, headers: dict[str, str] | None = None):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT_S)
        h = {"Accept": "text/event-stream"}
        h.update(headers or {})
        self.conn.request("GET", path, headers=h)
        # Kept: http.client drops conn.sock once it sees the stream will end the connection.
        self.sock = self.conn.sock
        self.response = self.conn.getresponse()
        self.buffer = b""

    def next_event(self, timeout: float = 5.0) -> dict[str, str]:
        """The next event with data (comments and retry-only blocks skipped)."""
        deadline = time.monotonic() + timeout
        while True:
            while b"\n\n" in self.buffer:
                block, self.buffer = self.buffer.split(b"\n\n", 1)
                fields: dict[str, str] = {}
                for line in block.decode().split("\n"):
                    if not line or line.startswith(":"):
                        continue
                    name, _, value = line.partition(":")
                    fields[name] = value[1:] if value.startswith(" ") else value
                if "data" in fields:
                    return fields
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no event within {timeout}s; have {self.buffer!r}")
            self.sock.settimeout(left)
            try:
                chunk = self.response.read1(4096)
            except socket.timeout:
                continue
            if not chunk:
                raise AssertionError("stream closed")
            self.buffer += chunk

    def close(self) -> None:
        self.response.close()
        self.sock.close()


class RevocationFeedTest(ServerTestCase):
    def feed(self, since: str | None = None):
        path = FEED if since is None else f"{FEED}?since={since}"
        r = self.server.request("GET", path)
        self.assertEqual(r.status, 200, r.describe())
        self.assertEqual(set(r.json), {"revocations", "cursor", "hasMore"}, r.describe())
        self.assertEqual(r.headers.get("cache-control"), "no-store")
        return r.json

    def session_id(self, device) -> str:
        r = device.get_session()
        self.assertEqual(r.status, 200, r.describe())
        return r.json["session"]["id"]

    def devices(self, n: int):
        first, email, _ = self.signed_up()
        devices = [first]
        for _ in range(n - 1):
            d = self.client()
            self.assertEqual(d.sign_in(email).status, 200)
            devices.append(d)
        return email, devices

    def test_every_way_of_ending_a_session_is_in_the_feed(self):
        start = self.feed()["cursor"]
        email, (a, b, c, d, e) = self.devices(5)
        ids = [self.session_id(x) for x in (a, b, c, d, e)]

        self.assertEqual(a.sign_out().status, 200)
        handle = b.get_session().json["session"]["token"]
        self.assertEqual(c.post_json("/api/auth/revoke-session", {"token": handle}).status, 200)
        self.assertEqual(c.post_json("/api/auth/change-password", {
            "currentPassword": DEFAULT_PASSWORD, "newPassword": "another-password-1"}).status, 200)
        # c now holds a new session; d and e are "others".
        self.assertEqual(c.post_json("/api/auth/revoke-other-sessions", {}).status, 200)
        new_c = self.session_id(c)
        self.assertEqual(c.post_json("/api/auth/revoke-sessions", {}).status, 200)

        got = self.feed(start)
        sids = [r["sid"] for r in got["revocations"]]
        self.assertEqual(sids[:3], [ids[0], ids[1], ids[2]])
        self.assertEqual(sorted(sids[3:5]), sorted([ids[3], ids[4]]))
        self.assertEqual(sids[5:], [new_c])
        now = time.time()
        for r in got["revocations"]:
            self.assertEqual(set(r), {"sid", "revokedAt"})
            self.assertIsInstance(r["revokedAt"], int)
            self.assertLessEqual(abs(r["revokedAt"] - now), 60)
        self.assertFalse(got["hasMore"])
        # The new cursor returns nothing new.
        self.assertEqual(self.feed(got["cursor"])["revocations"], [])
        self.assertEqual(self.feed(got["cursor"])["cursor"], got["cursor"])

    def test_bad_cursors_are_refused(self):
        for bad in ("x", "-1", "1.5", "99999999999999999999", "%00", "1%20"):
            r = self.server.request("GET", f"{FEED}?since={bad}")
            self.assert_error(r, 400, "INVALID_CURSOR")

    def test_event_stream_delivers_live_and_resumes(self):
        start = self.feed()["cursor"]
        stream = EventStream(self.server.port, f"{FEED}?since={start}")
        try:
            self.assertEqual(stream.response.status, 200)
            self.assertTrue(stream.response.getheader("content-type", "").startswith(
                "text/event-stream"))
            a, _, _ = self.signed_up()
            sid = self.session_id(a)
            self.assertEqual(a.sign_out().status, 200)
            event = stream.next_event()
            self.assertEqual(event["event"], "revocation")
            self.assertEqual(json.loads(event["data"])["sid"], sid)
            first_id = event["id"]

            b, _, _ = self.signed_up()
            sid_b = self.session_id(b)
            self.assertEqual(b.sign_out().status, 200)
            self.assertEqual(json.loads(stream.next_event()["data"])["sid"], sid_b)
        finally:
            stream.close()

        # Reconnecting with Last-Event-ID replays what came after it.
        again = EventStream(self.server.port, headers={"Last-Event-ID": first_id})
        try:
            self.assertEqual(json.loads(again.next_event()["data"])["sid"], sid_b)
        finally:
            again.close()
        self.assert_healthy()


class ForwardAuthTest(ServerTestCase):
    def jwt(self, device) -> str:
        r = device.get(TOKEN)
        self.assertEqual(r.status, 200, r.describe())
        return r.json["token"]

    def verify(self, headers: dict[str, str] | None = None, method: str = "GET"):
        return self.server.request(method, VERIFY, None, headers or {})

    def assert_allowed(self, r, user_id: str, email: str) -> None:
        self.assertEqual(r.status, 200, r.describe())
        self.assertEqual(r.headers.get("x-user-id"), user_id)
        self.assertEqual(r.headers.get("x-user-email"), email)
        self.assertTrue(r.headers.get("x-session-id"))
        self.assertEqual(r.headers.get("cache-control"), "no-store")

    def assert_refused(self, r) -> None:
        self.assert_error(r, 401, "UNAUTHORIZED")
        self.assertEqual(r.headers.get("www-authenticate"), "Bearer")
        self.assertIsNone(r.headers.get("x-user-id"))

    def test_cookie_bearer_and_jwt_pass_until_sign_out(self):
        device, email, signed_up = self.signed_up()
        user_id = signed_up.json["user"]["id"]
        bearer = signed_up.headers.get("set-auth-token")
        jwt = self.jwt(device)

        self.assert_allowed(device.get(VERIFY), user_id, email)
        for method in ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"):
            r = self.verify({"Authorization": f"Bearer {bearer}"}, method)
            self.assertEqual(r.status, 200, f"{method}: {r.describe()}")
        self.assert_allowed(self.verify({"Authorization": f"Bearer {jwt}"}), user_id, email)

        self.assertEqual(device.sign_out().status, 200)
        self.assert_refused(device.get(VERIFY))
        self.assert_refused(self.verify({"Authorization": f"Bearer {bearer}"}))
        # The JWT has not expired, but its session has ended.
        self.assert_refused(self.verify({"Authorization": f"Bearer {jwt}"}))

    def test_no_or_bad_credential_is_refused(self):
        self.assert_refused(self.verify())
        for bad in ("Bearer ", "Bearer x.y.z", "Bearer a.b", "Basic abc",
                    "Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0."):
            self.assert_refused(self.verify({"Authorization": bad}))
        device, _, _ = self.signed_up()
        jwt = self.jwt(device)
        header, payload, signature = jwt.split(".")
        tampered = f"{header}.{payload[:-2]}AA.{signature}"
        self.assert_refused(self.verify({"Authorization": f"Bearer {tampered}"}))


class RevocationsSurviveRestartTest(unittest.TestCase):
    def test_jwt_of_a_session_revoked_before_a_restart_stays_refused(self):
        server = Server()
        try:
            server.start()
            device = server.client()
            r = device.sign_up(email=unique_email())
            self.assertEqual(r.status, 200, r.describe())
            jwt = device.get(TOKEN).json["token"]
            self.assertEqual(device.sign_out().status, 200)
            self.assertEqual(server.stop(), 0)

            restarted = Server(data_dir=server.data_dir)
            try:
                restarted.start()
                r = restarted.request("GET", VERIFY, None, {"Authorization": f"Bearer {jwt}"})
                self.assertEqual(r.status, 401, r.describe())
                self.assertEqual(len(restarted.request("GET", FEED).json["revocations"]), 1)
            finally:
                restarted.stop()
                restarted.cleanup()
        finally:
            server.cleanup()


if __name__ == "__main__":
    unittest.main()
