"""CSRF defence: a state-changing request that carries a Cookie header must name a trusted origin
(Origin, or Referer when Origin is absent). Requests without cookies are not checked."""

import json
import unittest

from sessiond_harness import (
    COOKIE_NAME, DEFAULT_PASSWORD, ServerTestCase, encode_uri_component, sign, unique_email)

MISSING = {"code": "MISSING_OR_NULL_ORIGIN", "message": "Missing or null Origin"}
INVALID_CODE = "INVALID_ORIGIN"


class CsrfTest(ServerTestCase):
    server_args = ["--set", "trustedOrigins=http://app.example"]

    def setUp(self):
        self.device, self.email, self.up = self.signed_up()
        self.cookie = f"{COOKIE_NAME}={self.device.session_cookie}"
        self.user_id = self.up.json["user"]["id"]

    def sign_out(self, headers):
        h = {"Cookie": self.cookie, "Content-Type": "application/json"}
        h.update(headers)
        return self.server.request("POST", "/api/auth/sign-out", b"{}", h)

    def assert_still_signed_in(self):
        r = self.server.request("GET", "/api/auth/get-session", headers={"Cookie": self.cookie})
        self.assert_session_of(r, self.user_id)

    def assert_signed_out_now(self):
        r = self.server.request("GET", "/api/auth/get-session", headers={"Cookie": self.cookie})
        self.assert_signed_out(r)

    # -- rejected -------------------------------------------------------------------------------

    def test_no_origin_no_referer(self):
        r = self.sign_out({})
        self.assertEqual(r.status, 403, r.describe())
        self.assertEqual(r.json, MISSING)
        self.assertEqual((r.headers.get("content-type") or "").split(";")[0], "application/json")
        self.assertEqual(r.set_cookies, [])
        self.assert_still_signed_in()

    def test_null_origin(self):
        r = self.sign_out({"Origin": "null"})
        self.assertEqual(r.status, 403, r.describe())
        self.assertEqual(r.json, MISSING)
        self.assert_still_signed_in()

    def test_foreign_origin(self):
        for origin in ("http://evil.example", f"http://127.0.0.1:{self.server.port}.evil.example",
                       "http://127.0.0.1", f"https://127.0.0.1:{self.server.port}",
                       "http://app.example.evil.example", "https://app.example",
                       "http://app.example:8080", "http://sub.app.example"):
            with self.subTest(origin=origin):
                r = self.sign_out({"Origin": origin})
                self.assert_error(r, 403, INVALID_CODE, "Invalid origin")
        self.assert_still_signed_in()

    def test_foreign_referer_without_origin(self):
        r = self.sign_out({"Referer": "http://evil.example/attack.html"})
        self.assert_error(r, 403, INVALID_CODE)
        self.assert_still_signed_in()

    def test_trusted_referer_does_not_rescue_foreign_origin(self):
        r = self.sign_out({"Origin": "http://evil.example",
                           "Referer": f"{self.server.origin}/page"})
        self.assert_error(r, 403, INVALID_CODE)
        self.assert_still_signed_in()

    def test_unrelated_cookie_still_requires_origin(self):
        # Any Cookie header makes the request "ambient-credentialed".
        r = self.server.request("POST", "/api/auth/sign-in/email",
                                json.dumps({"email": self.email,
                                            "password": DEFAULT_PASSWORD}).encode(),
                                {"Cookie": "theme=dark", "Content-Type": "application/json"})
        self.assertEqual(r.status, 403, r.describe())
        self.assertEqual(r.json, MISSING)
        self.assertEqual(r.set_cookies, [])

    def test_every_post_route_is_guarded(self):
        bodies = {
            "/api/auth/sign-in/email": {"email": self.email, "password": DEFAULT_PASSWORD},
            "/api/auth/sign-up/email": {"email": unique_email(), "password": DEFAULT_PASSWORD,
                                        "name": "X"},
            "/api/auth/sign-out": {},
        }
        for path, payload in bodies.items():
            with self.subTest(path=path):
                r = self.server.request("POST", path, json.dumps(payload).encode(),
                                        {"Cookie": self.cookie,
                                         "Content-Type": "application/json",
                                         "Origin": "http://evil.example"})
                self.assert_error(r, 403, INVALID_CODE)
                self.assertIsNone(r.headers.get("set-auth-token"))
        # The sign-up above did not happen.
        r = self.client().sign_in(bodies["/api/auth/sign-up/email"]["email"])
        self.assertEqual(r.status, 401, r.describe())

    def test_form_post_with_cookie_and_foreign_origin(self):
        r = self.server.request("POST", "/api/auth/sign-out", b"",
                                {"Cookie": self.cookie, "Origin": "http://evil.example",
                                 "Content-Type": "application/x-www-form-urlencoded"})
        self.assert_error(r, 403, INVALID_CODE)
        self.assert_still_signed_in()

    # -- allowed --------------------------------------------------------------------------------

    def test_same_origin(self):
        r = self.sign_out({"Origin": self.server.origin})
        self.assertEqual(r.status, 200, r.describe())
        self.assertEqual(r.json, {"success": True})
        self.assert_signed_out_now()

    def test_same_origin_any_case(self):
        r = self.sign_out({"Origin": f"HTTP://127.0.0.1:{self.server.port}"})
        self.assertEqual(r.status, 200, r.describe())
        self.assert_signed_out_now()

    def test_same_origin_referer_without_origin(self):
        r = self.sign_out({"Referer": f"{self.server.origin}/page?x=1"})
        self.assertEqual(r.status, 200, r.describe())
        self.assertEqual(r.json, {"success": True})
        self.assert_signed_out_now()

    def test_configured_trusted_origin(self):
        r = self.sign_out({"Origin": "http://app.example"})
        self.assertEqual(r.status, 200, r.describe())
        self.assert_signed_out_now()

    def test_post_without_cookie_is_not_checked(self):
        for headers in ({}, {"Origin": "http://evil.example"}, {"Origin": "null"}):
            with self.subTest(headers=headers):
                h = {"Content-Type": "application/json", **headers}
                r = self.server.request("POST", "/api/auth/sign-in/email",
                                        json.dumps({"email": self.email,
                                                    "password": DEFAULT_PASSWORD}).encode(), h)
                self.assertEqual(r.status, 200, r.describe())
        r = self.server.request("POST", "/api/auth/sign-out", b"{}",
                                {"Content-Type": "application/json"})
        self.assertEqual(r.status, 200, r.describe())
        # That cookie-less sign-out ended nothing.
        self.assert_still_signed_in()

    def test_bearer_without_cookie_needs_no_origin(self):
        signed = self.up.headers.get("set-auth-token")
        r = self.server.request("POST", "/api/auth/sign-out", b"{}",
                                {"Authorization": f"Bearer {signed}",
                                 "Content-Type": "application/json"})
        self.assertEqual(r.status, 200, r.describe())
        self.assert_signed_out_now()

    def test_bearer_with_cookie_still_needs_origin(self):
        signed = self.up.headers.get("set-auth-token")
        r = self.server.request("POST", "/api/auth/sign-out", b"{}",
                                {"Authorization": f"Bearer {signed}", "Cookie": self.cookie,
                                 "Content-Type": "application/json"})
        self.assertEqual(r.status, 403, r.describe())
        self.assertEqual(r.json, MISSING)
        self.assert_still_signed_in()

    def test_get_is_not_checked(self):
        r = self.server.request("GET", "/api/auth/get-session",
                                headers={"Cookie": self.cookie, "Origin": "http://evil.example"})
        self.assert_session_of(r, self.user_id)


if __name__ == "__main__":
    unittest.main()
