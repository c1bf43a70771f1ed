"""One-time tokens (Better Auth's one-time-token plugin, Agnost's getAuthGrant):
GET /api/auth/one-time-token/generate and POST /api/auth/one-time-token/verify.

A signed-in device mints a token; another device spends it once for a session of its own
(cookie + set-auth-token + {session, user}); every later use fails with INVALID_TOKEN; an
expired token fails with TOKEN_EXPIRED; a token whose session has ended fails with
SESSION_NOT_FOUND; only a hash is stored.
"""

import hashlib
import sqlite3
import time
import unittest

from sessiond_harness import COOKIE_NAME, SESSION_KEYS, USER_KEYS, ServerTestCase

GENERATE = "/api/auth/one-time-token/generate"
VERIFY = "/api/auth/one-time-token/verify"


class OneTimeTokenTest(ServerTestCase):
    def mint(self, device) -> str:
        r = device.get(GENERATE)
        self.assertEqual(r.status, 200, r.describe())
        self.assertEqual(set(r.json), {"token"}, r.describe())
        self.assertEqual(r.headers.get("cache-control"), "no-store")
        token = r.json["token"]
        self.assertRegex(token, r"^[A-Za-z0-9_-]{43}$")
        return token

    def test_generate_needs_a_session(self):
        r = self.client().get(GENERATE)
        self.assert_error(r, 401, "UNAUTHORIZED")

    def test_token_signs_in_another_device_once(self):
        laptop, email, signed_up = self.signed_up()
        user_id = signed_up.json["user"]["id"]
        token = self.mint(laptop)

        phone = self.client(user_agent="phone/1.0")
        r = phone.post_json(VERIFY, {"token": token})
        self.assertEqual(r.status, 200, r.describe())
        self.assertEqual(set(r.json), {"session", "user"})
        self.assertEqual(set(r.json["session"]), SESSION_KEYS)
        self.assertEqual(set(r.json["user"]), USER_KEYS)
        self.assertEqual(r.json["user"]["email"], email)
        self.assertEqual(r.json["session"]["userAgent"], "phone/1.0")
        self.assertIsNotNone(r.set_cookie(COOKIE_NAME))
        self.assertIn(".", r.headers.get("set-auth-token") or "")
        # The phone has its own session; the laptop keeps its own.
        phone_session = phone.get_session()
        self.assert_session_of(phone_session, user_id)
        laptop_session = laptop.get_session()
        self.assert_session_of(laptop_session, user_id)
        self.assertNotEqual(phone_session.json["session"]["id"],
                            laptop_session.json["session"]["id"])

        again = self.client().post_json(VERIFY, {"token": token})
        self.assert_error(again, 400, "INVALID_TOKEN", "Invalid token")
        self.assertIsNone(again.set_cookie(COOKIE_NAME))

    def test_bearer_can_generate(self):
        _, _, signed_up = self.signed_up()
        bearer = signed_up.headers.get("set-auth-token")
        r = self.server.request("GET", GENERATE, None, {"Authorization": f"Bearer {bearer}"})
        self.assertEqual(r.status, 200, r.describe())
        self.assertIn("token", r.json)

    def test_token_of_an_ended_session_fails(self):
        laptop, _, _ = self.signed_up()
        token = self.mint(laptop)
        self.assertEqual(laptop.sign_out().status, 200)
        r = self.client().post_json(VERIFY, {"token": token})
        self.assert_error(r, 400, "SESSION_NOT_FOUND")
        # Spent by that attempt.
        r = self.client().post_json(VERIFY, {"token": token})
        self.assert_error(r, 400, "INVALID_TOKEN")

    def test_bad_input(self):
        for body in ({}, {"token": 5}, {"token": None}, [], "x"):
            r = self.client().post_json(VERIFY, body)
            self.assertEqual(r.status, 400, r.describe())
        for token in ("", "short", "A" * 43, "A" * 2000):
            r = self.client().post_json(VERIFY, {"token": token})
            self.assert_error(r, 400, "INVALID_TOKEN")
        r = self.client().request("POST", VERIFY, body=b"{", content_type="application/json")
        self.assert_error(r, 400)

    def test_only_a_hash_is_stored(self):
        laptop, _, _ = self.signed_up()
        token = self.mint(laptop)
        db = sqlite3.connect(f"file:{self.server.data_dir}/sessiond.db?mode=ro", uri=True)
        try:
            rows = db.execute("SELECT identifier, value FROM verification").fetchall()
        finally:
            db.close()
        digest = hashlib.sha256(token.encode()).hexdigest()
        self.assertIn(f"one-time-token:{digest}", [r[0] for r in rows])
        for identifier, value in rows:
            self.assertNotIn(token, identifier)
            self.assertNotIn(token, value)
        self.assertNotIn(token, self.server.stdout + self.server.stderr)


class OneTimeTokenExpiryTest(ServerTestCase):
    def mint_token(self, device) -> str:
        r = device.get(GENERATE)
        self.assertEqual(r.status, 200, r.describe())
        return r.json["token"]

    # The shortest lifetime config allows. Exact boundaries are unit-tested with an injected
    # clock (session_service_test.cc); here the real binary's clock has to pass the token's
    # lifetime, so the test waits it out (the only way to age a token from outside).
    server_args = ["--set", "oneTimeToken.expiresIn=1"]

    def test_expired_token_fails(self):
        laptop, _, _ = self.signed_up()
        token = self.mint_token(laptop)
        time.sleep(1.2)
        r = self.client().post_json(VERIFY, {"token": token})
        self.assert_error(r, 400, "TOKEN_EXPIRED", "Token expired")


if __name__ == "__main__":
    unittest.main()
