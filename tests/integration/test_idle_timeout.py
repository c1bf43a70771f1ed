"""session.idleTimeout and session.absoluteLifetime, black-box.

The binary reads the real clock, so instead of waiting an hour the tests move the session's
recorded times back in the SQLite file (times are integer milliseconds, docs/schema.md): a row
whose updated_at is an idle timeout old is exactly what an hour of silence leaves behind. Exact
boundaries (to the millisecond) are in session_service_test.cc with a FakeClock. One test uses a
1-second timeout with the real clock.
"""

import sqlite3
import time
import unittest
from pathlib import Path

from sessiond_harness import COOKIE_NAME, ServerTestCase

GET_SESSION = "/api/auth/get-session"
IDLE_S = 3600
ABSOLUTE_S = 2_592_000  # The default absoluteLifetime, 30 days.


class DbMixin:
    def db(self) -> sqlite3.Connection:
        conn = sqlite3.connect(Path(self.server.data_dir) / "sessiond.db", timeout=10)
        self.addCleanup(conn.close)
        return conn

    def row(self, session_id: str):
        """(created_at, updated_at, expires_at) in ms, or None when the row is gone."""
        return self.db().execute(
            "SELECT created_at, updated_at, expires_at FROM session WHERE id = ?",
            (session_id,)).fetchone()

    def age(self, session_id: str, column: str, seconds: float) -> None:
        """Moves `column` of the session `seconds` into the past."""
        conn = self.db()
        with conn:
            n = conn.execute(f"UPDATE session SET {column} = {column} - ? WHERE id = ?",
                             (int(seconds * 1000), session_id)).rowcount
        self.assertEqual(n, 1)

    def session_id(self, client):
        r = client.get(GET_SESSION)
        self.assertEqual(r.status, 200, r.describe())
        return None if r.body == b"null" else r.json["session"]["id"]


class IdleTimeoutTest(DbMixin, ServerTestCase):
    # The tests age rows behind the server's back; the in-process session cache would answer
    # from the row as it was for up to its max age, so it is off here.
    server_args = ["--set", f"session.idleTimeout={IDLE_S}", "--set", "sessionCache.enabled=false"]

    def test_a_session_idle_for_the_timeout_is_over_and_its_row_deleted(self):
        c, _, _ = self.signed_up()
        sid = self.session_id(c)
        self.age(sid, "updated_at", IDLE_S)
        r = c.get(GET_SESSION)
        self.assert_signed_out(r)
        cleared = r.set_cookie(COOKIE_NAME)
        self.assertTrue(cleared is not None and cleared.deletes, r.describe())
        self.assertIsNone(self.row(sid), "deleted like an expired session")

    def test_a_session_idle_for_less_is_alive_and_its_activity_recorded(self):
        c, _, _ = self.signed_up()
        sid = self.session_id(c)
        self.age(sid, "updated_at", IDLE_S - 60)  # 59 minutes of silence.
        _, before, expires = self.row(sid)
        self.assertEqual(self.session_id(c), sid)
        _, after, expires_after = self.row(sid)
        # More than a tenth of the timeout had passed: the request was recorded (updated_at is
        # now), the expiry did not move.
        self.assertGreater(after, before + (IDLE_S - 120) * 1000)
        self.assertLess(abs(after / 1000 - time.time()), 60)
        self.assertEqual(expires_after, expires)
        # And the timeout counts from there: another 59 minutes is fine again.
        self.age(sid, "updated_at", IDLE_S - 60)
        self.assertEqual(self.session_id(c), sid)

    def test_recent_activity_is_not_written_again(self):
        c, _, _ = self.signed_up()
        sid = self.session_id(c)
        self.age(sid, "updated_at", 60)  # Under a tenth of the timeout (6 minutes).
        before = self.row(sid)
        for _ in range(5):
            self.assertEqual(self.session_id(c), sid)
        self.assertEqual(self.row(sid), before, "validation wrote nothing")

    def test_list_sessions_leaves_out_idle_sessions(self):
        a, email, _ = self.signed_up()
        b = self.client()
        self.assertEqual(b.sign_in(email).status, 200)
        sid_a, sid_b = self.session_id(a), self.session_id(b)
        self.age(sid_a, "updated_at", IDLE_S + 1)
        r = b.get("/api/auth/list-sessions")
        self.assertEqual(r.status, 200, r.describe())
        self.assertEqual([s["id"] for s in r.json], [sid_b])

    def test_activity_never_extends_past_the_absolute_lifetime(self):
        c, _, _ = self.signed_up()
        sid = self.session_id(c)
        # Signed in 30 days ago, active a minute ago, expiry still in the future: over anyway.
        self.age(sid, "created_at", ABSOLUTE_S)
        self.age(sid, "updated_at", 60)
        self.assertIsNone(self.session_id(c))
        self.assertIsNone(self.row(sid))


class ShortIdleTimeoutTest(DbMixin, ServerTestCase):
    """A 1-second idle timeout against the real clock. The only wait is the timeout itself, and
    the assertion cannot race: the server stamped the session before answering the sign-up, so
    once the test's own clock (the same wall clock) is a second past that answer, the session has
    been idle for at least the timeout whatever the machine's load."""

    server_args = ["--set", "session.idleTimeout=1"]

    def test_unused_session_ends(self):
        c, _, r = self.signed_up()
        answered = time.time()
        user_id = r.json["user"]["id"]
        (sid,), = self.db().execute("SELECT id FROM session WHERE user_id = ?",
                                    (user_id,)).fetchall()
        # Wait out the timeout (plus a margin for millisecond truncation), then one request.
        while time.time() < answered + 1.1:
            time.sleep(answered + 1.1 - time.time())
        self.assertIsNone(self.session_id(c))
        self.assertIsNone(self.row(sid))


if __name__ == "__main__":
    unittest.main()
