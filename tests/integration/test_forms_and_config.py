"""Behaviour that depends on configuration: HTML form posts and their redirects, sliding expiry
(session.updateAge), cookie attributes and lifetimes."""

import datetime as dt
import unittest
import urllib.parse

from sessiond_harness import (
    COOKIE_NAME, DEFAULT_PASSWORD, ServerTestCase, encode_uri_component, now_utc, parse_iso,
    sign, unique_email)

SLACK = dt.timedelta(seconds=120)


class DefaultFormRedirectTest(ServerTestCase):
    """cookie.pathSuccess and cookie.pathLoggedOut default to "/"."""

    def test_form_sign_in_redirects_to_root_with_cookie(self):
        _, email, up = self.signed_up()
        c = self.client()
        r = c.post_form("/api/auth/sign-in/email", {"email": email, "password": DEFAULT_PASSWORD})
        self.assertEqual(r.status, 303, r.describe())
        self.assertEqual(r.headers.get("location"), "/")
        cookie = r.set_cookie()
        self.assertIsNotNone(cookie, r.describe())
        self.assertEqual(cookie.max_age, 604800)
        self.assertEqual(r.headers.get("cache-control"), "no-store")
        self.assert_session_of(c.get_session(), up.json["user"]["id"])

    def test_form_sign_out_redirects_to_root(self):
        _, email, _ = self.signed_up()
        c = self.client()
        self.assertEqual(c.sign_in(email).status, 200)
        r = c.post_form("/api/auth/sign-out", {})
        self.assertEqual(r.status, 303, r.describe())
        self.assertEqual(r.headers.get("location"), "/")
        self.assertTrue(any(x.name == COOKIE_NAME and x.max_age == 0 for x in r.set_cookies))
        self.assert_signed_out(c.get_session())


class FormPostTest(ServerTestCase):
    server_args = ["--set", "cookie.pathSuccess=/welcome", "--set", "cookie.pathLoggedOut=/bye"]

    def test_form_sign_up_redirects_to_path_success(self):
        c = self.client()
        email = unique_email("form")
        r = c.post_form("/api/auth/sign-up/email",
                        {"email": email, "password": DEFAULT_PASSWORD, "name": "Form User"})
        self.assertEqual(r.status, 303, r.describe())
        self.assertEqual(r.headers.get("location"), "/welcome")
        self.assertIsNotNone(r.set_cookie(), r.describe())
        s = c.get_session()
        self.assertEqual(s.json["user"]["email"], email)
        self.assertEqual(s.json["user"]["name"], "Form User")

    def test_form_sign_in_redirects_to_path_success(self):
        _, email, _ = self.signed_up()
        c = self.client()
        r = c.post_form("/api/auth/sign-in/email", {"email": email, "password": DEFAULT_PASSWORD})
        self.assertEqual(r.status, 303, r.describe())
        self.assertEqual(r.headers.get("location"), "/welcome")
        self.assertIsNotNone(r.set_cookie())

    def test_form_sign_in_percent_encoded_fields(self):
        email = unique_email("plus+tag")
        password = "p@ss word&=+%/ünï"
        self.assertEqual(self.client().sign_up(email=email, password=password).status, 200)
        c = self.client()
        body = urllib.parse.urlencode({"email": email, "password": password}).encode()
        r = c.request("POST", "/api/auth/sign-in/email", body=body,
                      content_type="application/x-www-form-urlencoded; charset=UTF-8")
        self.assertEqual(r.status, 303, r.describe())
        self.assertEqual(c.get_session().json["user"]["email"], email)

    def test_form_sign_in_remember_me_false(self):
        _, email, _ = self.signed_up()
        r = self.client().post_form("/api/auth/sign-in/email",
                                    {"email": email, "password": DEFAULT_PASSWORD,
                                     "rememberMe": "false"})
        self.assertEqual(r.status, 303, r.describe())
        cookie = r.set_cookie()
        self.assertIsNotNone(cookie)
        self.assertIsNone(cookie.max_age, cookie.raw)

    def test_form_sign_in_failure_does_not_redirect_to_success(self):
        _, email, _ = self.signed_up()
        r = self.client().post_form("/api/auth/sign-in/email",
                                    {"email": email, "password": "wrong-password-123"})
        self.assert_error(r, 401, "INVALID_EMAIL_OR_PASSWORD")
        self.assertIsNone(r.headers.get("location"))
        self.assertEqual(r.set_cookies, [])

    def test_form_sign_out_redirects_to_path_logged_out(self):
        _, email, _ = self.signed_up()
        c = self.client()
        self.assertEqual(c.sign_in(email).status, 200)
        r = c.post_form("/api/auth/sign-out", {})
        self.assertEqual(r.status, 303, r.describe())
        self.assertEqual(r.headers.get("location"), "/bye")
        self.assertNotIn(COOKIE_NAME, c.jar)
        self.assert_signed_out(c.get_session())

    def test_form_sign_out_with_cookie_still_needs_origin(self):
        _, email, _ = self.signed_up()
        c = self.client()
        self.assertEqual(c.sign_in(email).status, 200)
        r = c.post_form("/api/auth/sign-out", {}, send_origin=False)
        self.assert_error(r, 403, "MISSING_OR_NULL_ORIGIN")
        self.assertEqual(c.get_session().status, 200)
        self.assertIsInstance(c.get_session().json, dict)

    def test_json_sign_in_is_not_redirected(self):
        _, email, _ = self.signed_up()
        r = self.client().sign_in(email)
        self.assertEqual(r.status, 200, r.describe())
        self.assertIsNone(r.headers.get("location"))


class RenewOnEveryRequestTest(ServerTestCase):
    """session.updateAge=0: every validation slides the expiry and re-sets the cookie."""

    server_args = ["--set", "session.updateAge=0"]

    def test_get_session_renews_and_resets_cookie(self):
        c, _, up = self.signed_up()
        first = c.get_session()
        self.assert_session_of(first, up.json["user"]["id"])
        renewed = first.set_cookie()
        self.assertIsNotNone(renewed, first.describe())
        self.assertEqual(renewed.max_age, 604800, renewed.raw)
        self.assertEqual(renewed.attrs.get("path"), "/")
        self.assertIn("httponly", renewed.attrs)
        self.assertEqual(renewed.attrs.get("samesite"), "Lax")
        second = c.get_session()  # Sends the re-set cookie.
        self.assert_session_of(second, up.json["user"]["id"])
        self.assertIsNotNone(second.set_cookie(), second.describe())
        e1 = parse_iso(first.json["session"]["expiresAt"])
        e2 = parse_iso(second.json["session"]["expiresAt"])
        self.assertGreaterEqual(e2, e1)
        self.assertGreaterEqual(parse_iso(second.json["session"]["updatedAt"]),
                                parse_iso(first.json["session"]["updatedAt"]))
        self.assertLess(abs(e2 - (now_utc() + dt.timedelta(days=7))), SLACK)
        self.assertEqual(first.json["session"]["id"], second.json["session"]["id"])

    def test_renewal_keeps_browser_session_cookie_for_remember_me_false(self):
        _, email, _ = self.signed_up()
        c = self.client()
        self.assertEqual(c.sign_in(email, rememberMe=False).status, 200)
        r = c.get_session()
        self.assertEqual(r.status, 200, r.describe())
        renewed = r.set_cookie()
        self.assertIsNotNone(renewed, r.describe())
        self.assertIsNone(renewed.max_age, "a rememberMe:false cookie must stay a session cookie")
        self.assertLess(abs(parse_iso(r.json["session"]["expiresAt"]) -
                            (now_utc() + dt.timedelta(days=1))), SLACK)

    def test_session_route_renews_too(self):
        c, _, _ = self.signed_up()
        r = c.get("/api/auth/session")
        self.assertEqual(r.status, 200, r.describe())
        self.assertIsNotNone(r.set_cookie(), r.describe())


class CookieAndLifetimeConfigTest(ServerTestCase):
    server_args = ["--set", "session.expiresIn=3600", "--set", "session.updateAge=600",
                   "--set", "cookie.sameSite=strict", "--set", "cookie.prefix=myapp"]

    def test_cookie_attributes_follow_configuration(self):
        c = self.client()
        r = c.sign_up()
        self.assertEqual(r.status, 200, r.describe())
        cookie = r.set_cookie("myapp.session_token")
        self.assertIsNotNone(cookie, r.describe())
        self.assertIsNone(r.set_cookie(COOKIE_NAME))
        self.assertEqual(cookie.raw, f"myapp.session_token="
                                     f"{encode_uri_component(sign(r.json['token']))}"
                                     f"; Max-Age=3600; Path=/; HttpOnly; SameSite=Strict")
        s = c.get_session()
        self.assertEqual(s.status, 200, s.describe())
        self.assertLess(abs(parse_iso(s.json["session"]["expiresAt"]) -
                            (now_utc() + dt.timedelta(hours=1))), SLACK)
        # The default cookie name means nothing to this server.
        other = self.server.request("GET", "/api/auth/get-session", headers={
            "Cookie": f"{COOKIE_NAME}={cookie.value}"})
        self.assert_signed_out(other)
        # Sign-out clears the prefixed cookie.
        out = c.sign_out()
        self.assertEqual(out.status, 200, out.describe())
        cleared = out.set_cookie("myapp.session_token")
        self.assertIsNotNone(cleared, out.describe())
        self.assertEqual(cleared.max_age, 0)


class TrustedProxyTest(ServerTestCase):
    """With the peer listed in trustedProxies, X-Forwarded-For names the client: the right-most
    address that is not itself a trusted proxy."""

    server_args = ["--set", "trustedProxies=127.0.0.1,10.0.0.0/8"]

    def ip_after_sign_in(self, xff):
        _, email, _ = self.signed_up()
        c = self.client()
        headers = {} if xff is None else {"X-Forwarded-For": xff}
        r = c.post_json("/api/auth/sign-in/email",
                        {"email": email, "password": DEFAULT_PASSWORD}, headers=headers)
        self.assertEqual(r.status, 200, r.describe())
        return c.get_session().json["session"]["ipAddress"]

    def test_forwarded_client_address(self):
        self.assertEqual(self.ip_after_sign_in("203.0.113.9"), "203.0.113.9")
        self.assertEqual(self.ip_after_sign_in("198.51.100.1, 203.0.113.9, 10.1.2.3"),
                         "203.0.113.9")
        self.assertEqual(self.ip_after_sign_in(None), "127.0.0.1")


class HttpsBaseUrlTest(ServerTestCase):
    """An https baseUrl makes cookies Secure with the __Secure- prefix (as Better Auth does),
    and the base URL's origin is the one trusted for CSRF."""

    server_args = ["--base-url", "https://auth.example"]
    SECURE_NAME = "__Secure-" + COOKIE_NAME

    def test_secure_cookie(self):
        c = self.client(origin="https://auth.example")
        r = c.sign_up()
        self.assertEqual(r.status, 200, r.describe())
        self.assertIsNone(r.set_cookie(COOKIE_NAME))
        cookie = r.set_cookie(self.SECURE_NAME)
        self.assertIsNotNone(cookie, r.describe())
        self.assertEqual(cookie.raw, f"{self.SECURE_NAME}="
                                     f"{encode_uri_component(sign(r.json['token']))}"
                                     f"; Max-Age=604800; Path=/; HttpOnly; Secure; SameSite=Lax")
        self.assertEqual(c.get_session().status, 200)
        self.assertIsInstance(c.get_session().json, dict)
        # The server's own listening address is not the base URL: not trusted.
        r = c.sign_out(headers={"Origin": self.server.origin})
        self.assert_error(r, 403, "INVALID_ORIGIN")
        r = c.sign_out()
        self.assertEqual(r.status, 200, r.describe())
        cleared = r.set_cookie(self.SECURE_NAME)
        self.assertIsNotNone(cleared, r.describe())
        self.assertEqual(cleared.raw,
                         f"{self.SECURE_NAME}=; Max-Age=0; Path=/; HttpOnly; Secure; SameSite=Lax")
        self.assert_signed_out(c.get_session())


if __name__ == "__main__":
    unittest.main()
