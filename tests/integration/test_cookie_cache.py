"""The cookie cache (cookieCache.enabled): a signed better-auth.session_data cookie lets
get-session answer without a database read, in Better Auth's format — but, unlike Better Auth,
never for a session revoked through the API: revocation is checked in memory, so a revoked device
is signed out on its very next request even with its session_data cookie.

"No database read" is proven by deleting the session row directly in the SQLite file (which is
not a revocation through the API): the cache still answers, ?disableCookieCache=true does not.
Three simulated devices of one user (three cookie jars) are revoked every way the API offers.
"""

import base64
import hashlib
import hmac
import json
import sqlite3
import time
import unittest
import urllib.parse
from pathlib import Path

from sessiond_harness import (COOKIE_NAME, DEFAULT_PASSWORD, TEST_SECRET, ServerTestCase,
                              unique_email)

DATA_COOKIE = "better-auth.session_data"
GET_SESSION = "/api/auth/get-session"
BYPASS = GET_SESSION + "?disableCookieCache=true"


def b64url_decode(s: str) -> bytes:
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def b64url_encode(b: bytes) -> str:
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def decode_data(wire_value: str) -> dict:
    """The JSON inside a session_data cookie value (as it sits in a jar, percent-encoded)."""
    return json.loads(b64url_decode(urllib.parse.unquote(wire_value)))


def js_stringify(value) -> str:
    """JSON.stringify for the values in the cookie (insertion order, no spaces, UTF-8 kept)."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


class CookieCacheBase(ServerTestCase):
    # These tests prove what answers from the cookie by deleting rows behind the server's back;
    # the in-process session cache (sessionCache, docs/configuration.md) would answer for such a
    # row too, for up to its max age, so it is off here.
    server_args = ["--set", "cookieCache.enabled=true", "--set", "sessionCache.enabled=false"]

    # -- helpers ------------------------------------------------------------------------------

    def db(self) -> sqlite3.Connection:
        conn = sqlite3.connect(Path(self.server.data_dir) / "sessiond.db", timeout=10)
        self.addCleanup(conn.close)
        return conn

    def delete_row(self, session_id: str) -> None:
        """Removes the session row behind the server's back (not a revocation)."""
        conn = self.db()
        with conn:
            n = conn.execute("DELETE FROM session WHERE id = ?", (session_id,)).rowcount
        self.assertEqual(n, 1)

    def row_exists(self, session_id: str) -> bool:
        return self.db().execute("SELECT 1 FROM session WHERE id = ?",
                                 (session_id,)).fetchone() is not None

    def session_of(self, client, path: str = GET_SESSION):
        """(response, session id or None) of a get-session."""
        r = client.get(path)
        self.assertEqual(r.status, 200, r.describe())
        if r.body == b"null":
            return r, None
        return r, r.json["session"]["id"]

    def clone(self, client):
        """Another jar with the same cookies: what the device still holds after the server told
        the original to drop them (a second tab, a copied cookie, an attacker's copy)."""
        c = self.client(user_agent=client.user_agent)
        c.jar = dict(client.jar)
        return c

    def three_devices(self):
        """A user signed in on three devices, each with its session_data cookie and its session
        read once. Returns (email, [(client, session id), ...])."""
        email = unique_email("cache")
        first = self.client(user_agent="device-1")
        r = first.sign_up(email=email)
        self.assertEqual(r.status, 200, r.describe())
        devices = [first]
        for n in (2, 3):
            c = self.client(user_agent=f"device-{n}")
            r = c.sign_in(email)
            self.assertEqual(r.status, 200, r.describe())
            devices.append(c)
        out = []
        for c in devices:
            self.assertIn(DATA_COOKIE, c.jar)
            _, sid = self.session_of(c)
            self.assertIsNotNone(sid)
            out.append((c, sid))
        return email, out

    def assert_data_cleared(self, r) -> None:
        c = r.set_cookie(DATA_COOKIE)
        self.assertIsNotNone(c, r.describe())
        self.assertTrue(c.deletes, r.describe())


class CookieFormatTest(CookieCacheBase):
    def test_sign_in_sets_better_auths_session_data_cookie(self):
        c = self.client()
        email = unique_email()
        r = c.sign_up(email=email, name="Carol")
        self.assertEqual(r.status, 200, r.describe())
        token = r.json["token"]
        sc = r.set_cookie(DATA_COOKIE)
        self.assertIsNotNone(sc, r.describe())
        self.assertEqual(sc.max_age, 300)
        self.assertEqual(sc.attrs.get("path"), "/")
        self.assertIn("httponly", sc.attrs)
        self.assertEqual(sc.attrs.get("samesite"), "Lax")
        self.assertNotIn("secure", sc.attrs)

        data = decode_data(sc.value)
        self.assertEqual(list(data), ["session", "expiresAt", "signature"])
        inner = data["session"]
        self.assertEqual(list(inner)[:4], ["session", "user", "updatedAt", "version"])
        self.assertEqual(inner["version"], "1")
        self.assertEqual(inner["user"]["name"], "Carol")
        self.assertEqual(inner["user"]["email"], email)
        self.assertEqual(data["expiresAt"] - inner["updatedAt"], 300_000)
        self.assertLess(abs(inner["updatedAt"] / 1000 - time.time()), 60)
        # Better Auth's getCookieCache() check: HMAC-SHA256(secret,
        # JSON.stringify({...session, expiresAt})), base64url without padding.
        signed = js_stringify({**inner, "expiresAt": data["expiresAt"]})
        mac = hmac.new(TEST_SECRET.encode(), signed.encode(), hashlib.sha256).digest()
        self.assertEqual(data["signature"], b64url_encode(mac))
        # The credential is nowhere in it; the session's token is the revocation handle.
        raw = b64url_decode(urllib.parse.unquote(sc.value)).decode()
        self.assertNotIn(token, raw)
        s = c.get(GET_SESSION)
        self.assertEqual(inner["session"]["token"], s.json["session"]["token"])
        self.assertEqual(inner["session"]["id"], s.json["session"]["id"])

    def test_answer_from_the_cookie_equals_the_database_answer(self):
        c, _, _ = self.signed_up()
        cached = c.get(GET_SESSION)
        fresh = c.get(BYPASS)
        self.assertEqual(cached.json, fresh.json)
        self.assertEqual(cached.headers.get("cache-control"), "no-store")
        self.assertEqual(cached.headers.get_all("set-cookie"), [], "a cache hit re-sets nothing")

    def test_sign_out_clears_it(self):
        c, _, _ = self.signed_up()
        r = c.sign_out()
        self.assertEqual(r.status, 200, r.describe())
        self.assert_data_cleared(r)
        self.assertNotIn(DATA_COOKIE, c.jar)


class CacheAnswersWithoutTheDatabaseTest(CookieCacheBase):
    def test_get_session_answers_from_the_cookie_after_the_row_is_gone(self):
        c, email, _ = self.signed_up()
        before, sid = self.session_of(c)
        self.delete_row(sid)
        # No row: only the cookie can answer, and it does, with the same body.
        after, same = self.session_of(c)
        self.assertEqual(same, sid)
        self.assertEqual(after.json, before.json)
        self.assertEqual(after.json["user"]["email"], email)
        # disableCookieCache=true reads the database: no session, and the cookies go.
        r, none = self.session_of(c, BYPASS)
        self.assertIsNone(none)
        self.assert_data_cleared(r)
        self.assertNotIn(DATA_COOKIE, c.jar)
        self.assertNotIn(COOKIE_NAME, c.jar)

    def test_without_the_session_data_cookie_the_database_answers_and_sets_it(self):
        c, _, _ = self.signed_up()
        del c.jar[DATA_COOKIE]
        r, sid = self.session_of(c)
        self.assertIsNotNone(sid)
        self.assertIsNotNone(r.set_cookie(DATA_COOKIE), r.describe())
        self.delete_row(sid)
        _, cached = self.session_of(c)
        self.assertEqual(cached, sid)

    def test_disable_cookie_cache_reads_the_database_and_refreshes_the_cookie(self):
        c, _, _ = self.signed_up()
        old = decode_data(c.jar[DATA_COOKIE])
        # Let the clock move on by at least one millisecond so the new copy is distinguishable.
        deadline = time.monotonic() + 5
        while int(time.time() * 1000) <= old["session"]["updatedAt"] and \
                time.monotonic() < deadline:
            time.sleep(0.001)
        r, sid = self.session_of(c, BYPASS)
        self.assertIsNotNone(sid)
        sc = r.set_cookie(DATA_COOKIE)
        self.assertIsNotNone(sc, r.describe())
        new = decode_data(sc.value)
        self.assertGreater(new["session"]["updatedAt"], old["session"]["updatedAt"])
        self.assertEqual(new["session"]["session"]["id"], sid)
        # "false" is not a bypass.
        self.delete_row(sid)
        _, cached = self.session_of(c, GET_SESSION + "?disableCookieCache=false")
        self.assertEqual(cached, sid)


class TamperedCookieTest(CookieCacheBase):
    def forge(self, wire_value: str, **user_changes) -> str:
        data = decode_data(wire_value)
        data["session"]["user"].update(user_changes)
        return b64url_encode(js_stringify(data).encode())

    def test_tampered_cookie_is_ignored_and_replaced(self):
        c, email, _ = self.signed_up(name="Real Name")
        c.jar[DATA_COOKIE] = self.forge(c.jar[DATA_COOKIE], name="Forged", email="x@evil.test")
        r, sid = self.session_of(c)
        self.assertIsNotNone(sid)
        self.assertEqual(r.json["user"]["name"], "Real Name")
        self.assertEqual(r.json["user"]["email"], email)
        # The database answered, and put a good copy back.
        self.assertEqual(decode_data(c.jar[DATA_COOKIE])["session"]["user"]["name"], "Real Name")

    def test_tampered_cookie_cannot_answer_for_a_missing_row(self):
        c, _, _ = self.signed_up()
        _, sid = self.session_of(c)
        c.jar[DATA_COOKIE] = self.forge(c.jar[DATA_COOKIE], name="Forged")
        self.delete_row(sid)
        _, none = self.session_of(c)
        self.assertIsNone(none)

    def test_garbage_cookie_is_never_an_error(self):
        c, _, _ = self.signed_up()
        for junk in ("", "x", "%%%", "e30", b64url_encode(b"[1,2]"), "A" * 3000,
                     b64url_encode(b'{"session":{},"expiresAt":1,"signature":""}')):
            c.jar[DATA_COOKIE] = junk
            r, sid = self.session_of(c)
            self.assertIsNotNone(sid, (junk[:20], r.describe()))

    def test_another_devices_cookie_is_not_accepted(self):
        a, email, _ = self.signed_up()
        b = self.client()
        self.assertEqual(b.sign_in(email).status, 200)
        _, sid_a = self.session_of(a)
        _, sid_b = self.session_of(b)
        # b's (valid, signed) copy presented with a's session cookie: a's session is read from
        # the database, never b's copy.
        a.jar[DATA_COOKIE] = b.jar[DATA_COOKIE]
        _, seen = self.session_of(a)
        self.assertEqual(seen, sid_a)
        a.jar[DATA_COOKIE] = b.jar[DATA_COOKIE]
        self.delete_row(sid_a)
        _, none = self.session_of(a)
        self.assertIsNone(none)
        self.assertNotEqual(sid_a, sid_b)


class RevocationWithTheCacheOnTest(CookieCacheBase):
    """Every way of ending a session through the API: the ended device gets null on its very
    next request, session_data cookie or not; the others see exactly what they should."""

    def test_sign_out_from_a_device_ends_every_copy_of_its_cookies(self):
        _, [(a, sid_a), (b, sid_b), (c, sid_c)] = self.three_devices()
        a_copy = self.clone(a)
        r = a.sign_out()
        self.assertEqual(r.status, 200, r.describe())
        self.assertFalse(self.row_exists(sid_a))
        _, seen = self.session_of(a_copy)
        self.assertIsNone(seen)
        self.assertEqual(self.session_of(b)[1], sid_b)
        self.assertEqual(self.session_of(c)[1], sid_c)

    def test_revoke_session_from_another_device(self):
        _, [(a, sid_a), (b, sid_b), (c, sid_c)] = self.three_devices()
        handle = a.get(GET_SESSION).json["session"]["token"]
        r = b.post_json("/api/auth/revoke-session", {"token": handle})
        self.assertEqual(r.json, {"status": True}, r.describe())
        self.assertIn(DATA_COOKIE, a.jar)
        r, seen = self.session_of(a)
        self.assertIsNone(seen)
        self.assert_data_cleared(r)
        self.assertEqual(self.session_of(b)[1], sid_b)
        self.assertEqual(self.session_of(c)[1], sid_c)

    def test_revoke_other_sessions(self):
        _, [(a, sid_a), (b, sid_b), (c, sid_c)] = self.three_devices()
        r = b.post_json("/api/auth/revoke-other-sessions", {})
        self.assertEqual(r.json, {"status": True}, r.describe())
        self.assertIsNone(self.session_of(a)[1])
        self.assertIsNone(self.session_of(c)[1])
        self.assertEqual(self.session_of(b)[1], sid_b)
        # b's copy stays good: answered from the cookie even without its row.
        self.delete_row(sid_b)
        self.assertEqual(self.session_of(b)[1], sid_b)

    def test_revoke_sessions_ends_every_device_including_the_caller(self):
        _, [(a, sid_a), (b, sid_b), (c, sid_c)] = self.three_devices()
        b_copy = self.clone(b)
        r = b.post_json("/api/auth/revoke-sessions", {})
        self.assertEqual(r.json, {"status": True}, r.describe())
        self.assert_data_cleared(r)
        for device in (a, b, c, b_copy):
            self.assertIsNone(self.session_of(device)[1])

    def test_change_password_with_revoke_other_sessions(self):
        email, [(a, sid_a), (b, sid_b), (c, sid_c)] = self.three_devices()
        a_copy = self.clone(a)
        r = a.post_json("/api/auth/change-password",
                        {"currentPassword": DEFAULT_PASSWORD,
                         "newPassword": "a-brand-new-passphrase", "revokeOtherSessions": True})
        self.assertEqual(r.status, 200, r.describe())
        sc = r.set_cookie(DATA_COOKIE)
        self.assertIsNotNone(sc, r.describe())
        # a continues on a new session (new cookie and copy); its old cookies are dead.
        _, new_sid = self.session_of(a)
        self.assertIsNotNone(new_sid)
        self.assertNotEqual(new_sid, sid_a)
        self.assertEqual(decode_data(sc.value)["session"]["session"]["id"], new_sid)
        self.assertIsNone(self.session_of(a_copy)[1])
        self.assertIsNone(self.session_of(b)[1])
        self.assertIsNone(self.session_of(c)[1])

    def test_change_password_without_revoking_others_keeps_them(self):
        email, [(a, sid_a), (b, sid_b), (c, sid_c)] = self.three_devices()
        a_copy = self.clone(a)
        r = a.post_json("/api/auth/change-password",
                        {"currentPassword": DEFAULT_PASSWORD,
                         "newPassword": "a-brand-new-passphrase"})
        self.assertEqual(r.status, 200, r.describe())
        self.assertIsNone(self.session_of(a_copy)[1], "the replaced session is revoked")
        self.assertEqual(self.session_of(b)[1], sid_b)
        self.assertEqual(self.session_of(c)[1], sid_c)

    def test_update_user_re_sets_the_callers_copy(self):
        c, _, _ = self.signed_up(name="Before")
        r = c.post_json("/api/auth/update-user", {"name": "After"})
        self.assertEqual(r.status, 200, r.describe())
        self.assertIsNotNone(r.set_cookie(DATA_COOKIE), r.describe())
        self.assertEqual(c.get(GET_SESSION).json["user"]["name"], "After")


class CacheOffTest(ServerTestCase):
    """The default: no session_data cookie, every get-session reads the database."""

    def test_no_session_data_cookie_and_no_cache(self):
        c, _, r = self.signed_up()
        self.assertIsNone(r.set_cookie(DATA_COOKIE), r.describe())
        s = c.get(GET_SESSION)
        self.assertIsNone(s.set_cookie(DATA_COOKIE), s.describe())


if __name__ == "__main__":
    unittest.main()
