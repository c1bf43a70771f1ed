"""The Better Auth email+password flow over the wire: sign-up, sign-in, get-session / session,
bearer transport, sign-out, several devices, health endpoints, 404 / 405.

One server for the whole module's classes that share default configuration (fast hashing,
fixed secret)."""

import datetime as dt
import json
import unittest

from sessiond_harness import (
    COOKIE_NAME, DEFAULT_PASSWORD, DEFAULT_USER_AGENT, ISO_RE, SESSION_KEYS, TEST_SECRET,
    USER_KEYS, ServerTestCase, encode_uri_component, now_utc, parse_iso, sign, unique_email)

SEVEN_DAYS = dt.timedelta(days=7)
ONE_DAY = dt.timedelta(days=1)
SLACK = dt.timedelta(seconds=120)


class AuthFlowBase(ServerTestCase):
    def assert_user(self, user, email, name="Test User", image=None):
        self.assertIsInstance(user, dict)
        self.assertEqual(set(user), USER_KEYS, user)
        self.assertEqual(user["email"], email.lower())
        self.assertEqual(user["name"], name)
        self.assertIs(user["emailVerified"], False)
        self.assertEqual(user["image"], image)
        self.assertIsInstance(user["id"], str)
        self.assertTrue(user["id"])
        for k in ("createdAt", "updatedAt"):
            self.assertRegex(user[k], ISO_RE)

    def assert_session_cookie_issued(self, r, *, max_age=604800):
        """The response sets the signed session cookie and the bearer header for body.token;
        returns the signed value."""
        token = r.json["token"]
        self.assertIsInstance(token, str)
        self.assertGreaterEqual(len(token), 32, "token should carry at least 192 bits")
        signed = r.headers.get("set-auth-token")
        self.assertIsNotNone(signed, r.describe())
        # <token>.<base64(HMAC-SHA256(secret, token)) with padding> (better-call's signed cookie).
        self.assertEqual(signed, sign(token), "set-auth-token is not <token>.<HMAC> under the secret")
        self.assertEqual(len(signed.split(".", 1)[1]), 44)
        cookies = [c for c in r.set_cookies if c.name == COOKIE_NAME]
        self.assertEqual(len(cookies), 1, r.describe())
        expected = f"{COOKIE_NAME}={encode_uri_component(signed)}"
        if max_age is not None:
            expected += f"; Max-Age={max_age}"
        expected += "; Path=/; HttpOnly; SameSite=Lax"
        self.assertEqual(cookies[0].raw, expected)
        self.assertEqual(r.headers.get("cache-control"), "no-store", r.describe())
        self.assertIn("set-auth-token",
                      (r.headers.get("access-control-expose-headers") or "").lower())
        return signed


class SignUpTest(AuthFlowBase):
    def test_sign_up_returns_user_token_cookie_and_bearer_header(self):
        c = self.client()
        email = unique_email("alice")
        r = c.sign_up(email=email, name="Alice")
        self.assertEqual(r.status, 200, r.describe())
        self.assertEqual((r.headers.get("content-type") or "").split(";")[0], "application/json")
        self.assertEqual(set(r.json), {"token", "user"}, r.json)
        self.assert_user(r.json["user"], email, name="Alice")
        self.assertEqual(r.json["user"]["createdAt"], r.json["user"]["updatedAt"])
        self.assertLess(abs(parse_iso(r.json["user"]["createdAt"]) - now_utc()), SLACK)
        self.assert_session_cookie_issued(r)
        # The device is now signed in.
        s = c.get_session()
        self.assert_session_of(s, r.json["user"]["id"])

    def test_sign_up_stores_email_lower_cased(self):
        email = unique_email("MiXeD").replace("example.com", "Example.COM")
        c = self.client()
        r = c.sign_up(email=email)
        self.assertEqual(r.status, 200, r.describe())
        self.assertEqual(r.json["user"]["email"], email.lower())
        s = c.get_session()
        self.assertEqual(s.json["user"]["email"], email.lower())

    def test_sign_up_with_image(self):
        email = unique_email()
        r = self.client().sign_up(email=email, image="https://cdn.example.com/a.png")
        self.assertEqual(r.status, 200, r.describe())
        self.assert_user(r.json["user"], email, image="https://cdn.example.com/a.png")

    def test_sign_up_with_remember_me_false_sets_browser_session_cookie(self):
        c = self.client()
        r = c.sign_up(rememberMe=False)
        self.assertEqual(r.status, 200, r.describe())
        self.assert_session_cookie_issued(r, max_age=None)

    def test_duplicate_email_is_rejected_case_insensitively(self):
        email = unique_email("dup")
        first = self.client().sign_up(email=email)
        self.assertEqual(first.status, 200, first.describe())
        for again in (email, email.upper()):
            r = self.client().sign_up(email=again, password="another-password-1")
            self.assertEqual(r.status, 422, r.describe())
            self.assertEqual(r.json, {"code": "USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL",
                                      "message": "User already exists. Use another email."})
            self.assertEqual(r.set_cookies, [])
            self.assertIsNone(r.headers.get("set-auth-token"))
        # The original password still signs in; the rejected one does not.
        self.assertEqual(self.client().sign_in(email).status, 200)
        self.assertEqual(self.client().sign_in(email, "another-password-1").status, 401)

    def test_invalid_emails(self):
        for bad in ("not-an-email", "@example.com", "alice@", "alice example@example.com",
                    "alice@@example.com", "", " ", "alice@example.com\n", "alice@exa mple.com",
                    "alice@example.com\u0000"):
            with self.subTest(email=bad):
                r = self.client().sign_up(email=bad)
                self.assert_error(r, 400, "INVALID_EMAIL")
                self.assertEqual(r.set_cookies, [])

    def test_password_length_bounds(self):
        cases = [("x" * 7, 400, "PASSWORD_TOO_SHORT"), ("", 400, "PASSWORD_TOO_SHORT"),
                 ("x" * 129, 400, "PASSWORD_TOO_LONG"), ("x" * 8, 200, None),
                 ("y" * 128, 200, None)]
        for password, status, code in cases:
            with self.subTest(length=len(password)):
                email = unique_email()
                r = self.client().sign_up(email=email, password=password)
                if status == 200:
                    self.assertEqual(r.status, 200, r.describe())
                    self.assertEqual(self.client().sign_in(email, password).status, 200)
                else:
                    self.assert_error(r, status, code)
                    # No account was created.
                    self.assertEqual(self.client().sign_in(email, password).status, 401)

    def test_missing_fields_are_validation_errors(self):
        full = {"email": unique_email(), "password": DEFAULT_PASSWORD, "name": "N"}
        for missing in ("name", "email", "password"):
            with self.subTest(missing=missing):
                payload = {k: v for k, v in full.items() if k != missing}
                r = self.client().post_json("/api/auth/sign-up/email", payload)
                self.assert_error(r, 400, "VALIDATION_ERROR")

    def test_non_string_fields_are_validation_errors(self):
        for field, value in (("name", 5), ("name", None), ("email", 123), ("password", None),
                             ("password", ["a"]), ("image", 7), ("rememberMe", "yes")):
            with self.subTest(field=field, value=value):
                payload = {"email": unique_email(), "password": DEFAULT_PASSWORD, "name": "N"}
                payload[field] = value
                r = self.client().post_json("/api/auth/sign-up/email", payload)
                self.assert_error(r, 400, "VALIDATION_ERROR")


class SignInTest(AuthFlowBase):
    def test_sign_in_returns_new_session(self):
        _, email, up = self.signed_up()
        c = self.client()
        r = c.sign_in(email)
        self.assertEqual(r.status, 200, r.describe())
        self.assertEqual(set(r.json), {"redirect", "token", "user"}, r.json)
        self.assertIs(r.json["redirect"], False)
        self.assertEqual(r.json["user"], up.json["user"])
        self.assertNotEqual(r.json["token"], up.json["token"])
        self.assert_session_cookie_issued(r)
        self.assert_session_of(c.get_session(), up.json["user"]["id"])

    def test_sign_in_email_is_case_insensitive(self):
        _, email, up = self.signed_up()
        r = self.client().sign_in(email.upper())
        self.assertEqual(r.status, 200, r.describe())
        self.assertEqual(r.json["user"]["id"], up.json["user"]["id"])

    def test_every_sign_in_gives_a_new_token(self):
        _, email, _ = self.signed_up()
        c = self.client()
        tokens = set()
        for _ in range(3):
            r = c.sign_in(email)  # Same device, cookie from the previous sign-in is sent along.
            self.assertEqual(r.status, 200, r.describe())
            tokens.add(r.json["token"])
        self.assertEqual(len(tokens), 3)

    def test_wrong_password_and_unknown_email_answer_identically(self):
        _, email, _ = self.signed_up()
        wrong = self.client().sign_in(email, "wrong-password-123")
        unknown = self.client().sign_in(unique_email("nobody"), "wrong-password-123")
        for r in (wrong, unknown):
            self.assertEqual(r.status, 401, r.describe())
            self.assertEqual(r.json, {"code": "INVALID_EMAIL_OR_PASSWORD",
                                      "message": "Invalid email or password"})
            self.assertEqual(r.set_cookies, [])
            self.assertIsNone(r.headers.get("set-auth-token"))
        self.assertEqual(wrong.body, unknown.body)

    def test_remember_me_false(self):
        _, email, _ = self.signed_up()
        c = self.client()
        r = c.sign_in(email, rememberMe=False)
        self.assertEqual(r.status, 200, r.describe())
        self.assert_session_cookie_issued(r, max_age=None)
        s = c.get_session()
        self.assertEqual(s.status, 200, s.describe())
        expires = parse_iso(s.json["session"]["expiresAt"])
        self.assertLess(abs(expires - (now_utc() + ONE_DAY)), SLACK, s.json["session"])

    def test_remember_me_true_explicit(self):
        _, email, _ = self.signed_up()
        r = self.client().sign_in(email, rememberMe=True)
        self.assertEqual(r.status, 200, r.describe())
        self.assert_session_cookie_issued(r)

    def test_planted_cookie_is_not_adopted(self):
        """Session fixation: a cookie the attacker planted (even one correctly signed for a
        token of the right shape) is replaced by a new token at sign-in and never validates."""
        _, email, _ = self.signed_up()
        for planted_token in ("A" * 43, "planted-token-planted-token-planted-tok1234"):
            with self.subTest(planted=planted_token):
                c = self.client()
                planted = encode_uri_component(sign(planted_token))
                c.jar[COOKIE_NAME] = planted
                self.assert_signed_out(c.get_session())
                c.jar[COOKIE_NAME] = planted  # (a null answer may have cleared it)
                r = c.sign_in(email)
                self.assertEqual(r.status, 200, r.describe())
                self.assertNotEqual(r.json["token"], planted_token)
                new = r.set_cookie()
                self.assertIsNotNone(new)
                self.assertNotEqual(new.value, planted)
                # The planted value still gives no session; the new one does.
                other = self.client()
                other.jar[COOKIE_NAME] = planted
                self.assert_signed_out(other.get_session())
                self.assertEqual(c.get_session().json["user"]["email"], email.lower())

    def test_unknown_fields_are_ignored(self):
        # Better Auth's client sends e.g. callbackURL along.
        email = unique_email()
        r = self.client().sign_up(email=email, callbackURL="/dashboard", extra={"a": 1})
        self.assertEqual(r.status, 200, r.describe())
        r = self.client().sign_in(email, callbackURL="/dashboard", unknown=None)
        self.assertEqual(r.status, 200, r.describe())

    def test_sign_in_missing_password_is_validation_error(self):
        r = self.client().post_json("/api/auth/sign-in/email", {"email": unique_email()})
        self.assert_error(r, 400, "VALIDATION_ERROR")


class GetSessionTest(AuthFlowBase):
    def test_session_shape(self):
        c, email, up = self.signed_up()
        before = now_utc()
        r = c.get_session()
        self.assertEqual(r.status, 200, r.describe())
        self.assertEqual(r.headers.get("cache-control"), "no-store")
        self.assertEqual((r.headers.get("content-type") or "").split(";")[0], "application/json")
        self.assertEqual(set(r.json), {"session", "user"})
        s, u = r.json["session"], r.json["user"]
        self.assertEqual(set(s), SESSION_KEYS, s)
        self.assertEqual(u, up.json["user"])
        self.assertEqual(s["userId"], u["id"])
        self.assertEqual(s["ipAddress"], "127.0.0.1")
        self.assertEqual(s["userAgent"], DEFAULT_USER_AGENT)
        self.assertIsInstance(s["id"], str)
        self.assertTrue(s["id"])
        for k in ("expiresAt", "createdAt", "updatedAt"):
            self.assertRegex(s[k], ISO_RE)
        self.assertLess(abs(parse_iso(s["expiresAt"]) - (before + SEVEN_DAYS)), SLACK, s)
        self.assertLess(abs(parse_iso(s["createdAt"]) - before), SLACK, s)
        # A fresh session is not renewed: no cookie is re-sent with the default updateAge.
        self.assertEqual(r.headers.get_all("set-cookie"), [], r.describe())

    def test_session_token_field_is_a_handle_not_the_credential(self):
        c, _, up = self.signed_up()
        raw = up.json["token"]
        signed = up.headers.get("set-auth-token")
        r1 = c.get_session()
        r2 = c.get_session()
        handle = r1.json["session"]["token"]
        self.assertIsInstance(handle, str)
        self.assertTrue(handle)
        self.assertNotEqual(handle, raw)
        self.assertNotIn(raw, r1.body.decode())
        self.assertNotIn(signed.split(".")[1], r1.body.decode())
        self.assertNotIn(encode_uri_component(signed), r1.body.decode())
        # Stable: it names the session.
        self.assertEqual(r2.json["session"]["token"], handle)
        # And it authenticates nothing.
        for value in (handle, sign(handle)):
            probe = self.server.request("GET", "/api/auth/get-session",
                                        headers={"Authorization": f"Bearer {value}"})
            self.assert_signed_out(probe)
            probe = self.server.request("GET", "/api/auth/get-session", headers={
                "Cookie": f"{COOKIE_NAME}={encode_uri_component(sign(handle))}"})
            self.assert_signed_out(probe)

    def test_user_agent_is_recorded_per_session(self):
        _, email, _ = self.signed_up()
        c = self.client(user_agent="Mozilla/5.0 (X11; Linux) integration-phone")
        self.assertEqual(c.sign_in(email).status, 200)
        self.assertEqual(c.get_session().json["session"]["userAgent"],
                         "Mozilla/5.0 (X11; Linux) integration-phone")

    def test_no_cookie_gives_null(self):
        r = self.server.request("GET", "/api/auth/get-session")
        self.assertEqual(r.status, 200, r.describe())
        self.assertEqual(r.body, b"null")
        self.assertEqual(r.headers.get("cache-control"), "no-store")
        self.assertEqual((r.headers.get("content-type") or "").split(";")[0], "application/json")

    def test_tampered_signature_gives_null(self):
        c, _, up = self.signed_up()
        token, sig = up.headers.get("set-auth-token").split(".", 1)
        flipped = ("B" if sig[0] != "B" else "C") + sig[1:]
        for value in (f"{token}.{flipped}", f"{token}.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
                      f"{token}.", token, f"{token}.{sig}x", f"{token[:-1]}X.{sig}"):
            with self.subTest(value=value):
                r = self.server.request("GET", "/api/auth/get-session", headers={
                    "Cookie": f"{COOKIE_NAME}={encode_uri_component(value)}"})
                self.assert_signed_out(r)
        # The genuine cookie still works.
        self.assertEqual(c.get_session().json["user"]["id"], up.json["user"]["id"])

    def test_cookie_signed_with_another_secret_gives_null(self):
        _, _, up = self.signed_up()
        forged = sign(up.json["token"], "another-secret-another-secret-another-se")
        r = self.server.request("GET", "/api/auth/get-session", headers={
            "Cookie": f"{COOKIE_NAME}={encode_uri_component(forged)}"})
        self.assert_signed_out(r)

    def test_session_cookie_among_other_cookies(self):
        c, _, up = self.signed_up()
        value = c.session_cookie
        for header in (f"theme=dark; {COOKIE_NAME}={value}; lang=en",
                       f"{COOKIE_NAME}={value};other=1",
                       f"better-auth.session_data=xyz; {COOKIE_NAME}={value}"):
            with self.subTest(header=header):
                r = self.server.request("GET", "/api/auth/get-session",
                                        headers={"Cookie": header})
                self.assert_session_of(r, up.json["user"]["id"])

    def test_unencoded_cookie_value_is_accepted(self):
        # Some clients send the signed value without percent-encoding ('+', '/', '=' raw).
        _, _, up = self.signed_up()
        r = self.server.request("GET", "/api/auth/get-session", headers={
            "Cookie": f"{COOKIE_NAME}={up.headers.get('set-auth-token')}"})
        self.assert_session_of(r, up.json["user"]["id"])

    def test_query_string_is_ignored(self):
        # Better Auth's client calls /get-session?disableCookieCache=true.
        c, _, up = self.signed_up()
        r = c.get("/api/auth/get-session?disableCookieCache=true")
        self.assert_session_of(r, up.json["user"]["id"])

    def test_session_route_signed_in_and_out(self):
        c, _, up = self.signed_up()
        r = c.get("/api/auth/session")
        self.assert_session_of(r, up.json["user"]["id"])
        self.assertEqual(set(r.json["session"]), SESSION_KEYS)
        self.assertEqual(r.headers.get("cache-control"), "no-store")
        anon = self.server.request("GET", "/api/auth/session")
        self.assertEqual(anon.status, 200, anon.describe())
        self.assertEqual(anon.json, {"session": None, "user": None})
        self.assertEqual(anon.headers.get("cache-control"), "no-store")


class ClientInfoTest(AuthFlowBase):
    def test_x_forwarded_for_is_ignored_without_trusted_proxies(self):
        _, email, _ = self.signed_up()
        c = self.client()
        r = c.post_json("/api/auth/sign-in/email", {"email": email, "password": DEFAULT_PASSWORD},
                        headers={"X-Forwarded-For": "203.0.113.9"})
        self.assertEqual(r.status, 200, r.describe())
        s = c.get_session(headers={"X-Forwarded-For": "198.51.100.7"})
        self.assertEqual(s.json["session"]["ipAddress"], "127.0.0.1")

    def test_long_user_agent_is_cut_to_512_bytes(self):
        _, email, _ = self.signed_up()
        ua = "Mozilla/5.0 " + "x" * 2000
        c = self.client(user_agent=ua)
        self.assertEqual(c.sign_in(email).status, 200)
        stored = c.get_session().json["session"]["userAgent"]
        self.assertEqual(stored, ua[:512])

    def test_missing_user_agent_is_empty_string(self):
        _, email, _ = self.signed_up()
        body = json.dumps({"email": email, "password": DEFAULT_PASSWORD}).encode()
        r = self.server.request("POST", "/api/auth/sign-in/email", body,
                                {"Content-Type": "application/json"})
        self.assertEqual(r.status, 200, r.describe())
        s = self.server.request("GET", "/api/auth/get-session",
                                headers={"Authorization": f"Bearer {r.json['token']}"})
        self.assertEqual(s.json["session"]["userAgent"], "")


class ConcurrencyTest(AuthFlowBase):
    def test_racing_sign_ups_for_one_email_create_one_user(self):
        from concurrent.futures import ThreadPoolExecutor
        email = unique_email("race")
        with ThreadPoolExecutor(max_workers=8) as pool:
            results = list(pool.map(lambda i: self.client().sign_up(
                email=email if i % 2 else email.upper(), password=f"password-number-{i}"),
                range(8)))
        statuses = sorted(r.status for r in results)
        self.assertEqual(statuses, [200] + [422] * 7, [r.describe() for r in results])
        for r in results:
            if r.status == 422:
                self.assertEqual(r.json["code"], "USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL")
        winner = next(i for i, r in enumerate(results) if r.status == 200)
        self.assertEqual(self.client().sign_in(email, f"password-number-{winner}").status, 200)
        self.assert_healthy()

    def test_parallel_sign_ins_and_session_checks(self):
        from concurrent.futures import ThreadPoolExecutor
        _, email, up = self.signed_up()

        def device(_):
            c = self.client()
            r = c.sign_in(email)
            ok = r.status == 200
            for _ in range(5):
                g = c.get_session()
                ok = ok and g.status == 200 and g.json["user"]["id"] == up.json["user"]["id"]
            return ok, r.json.get("token") if r.has_json and isinstance(r.json, dict) else None

        with ThreadPoolExecutor(max_workers=8) as pool:
            results = list(pool.map(device, range(16)))
        self.assertTrue(all(ok for ok, _ in results), results)
        self.assertEqual(len({t for _, t in results}), 16)


class BearerTest(AuthFlowBase):
    def test_bearer_signed_value(self):
        _, _, up = self.signed_up()
        r = self.server.request("GET", "/api/auth/get-session", headers={
            "Authorization": f"Bearer {up.headers.get('set-auth-token')}"})
        self.assert_session_of(r, up.json["user"]["id"])
        self.assertEqual(r.headers.get_all("set-cookie"), [])

    def test_bearer_raw_token(self):
        _, _, up = self.signed_up()
        r = self.server.request("GET", "/api/auth/get-session", headers={
            "Authorization": f"Bearer {up.json['token']}"})
        self.assert_session_of(r, up.json["user"]["id"])

    def test_bearer_url_encoded_signed_value(self):
        _, _, up = self.signed_up()
        value = encode_uri_component(up.headers.get("set-auth-token"))
        r = self.server.request("GET", "/api/auth/get-session",
                                headers={"Authorization": f"Bearer {value}"})
        self.assert_session_of(r, up.json["user"]["id"])

    def test_bearer_bad_values_give_null(self):
        _, _, up = self.signed_up()
        token, sig = up.headers.get("set-auth-token").split(".", 1)
        for value in ("garbage", f"{token}.{'A' * 43}=", token[:-1] + "X", "", sign("Z" * 43)):
            with self.subTest(value=value):
                r = self.server.request("GET", "/api/auth/get-session",
                                        headers={"Authorization": f"Bearer {value}"})
                self.assert_signed_out(r)

    def test_bearer_sign_out_needs_no_origin(self):
        _, _, up = self.signed_up()
        auth = {"Authorization": f"Bearer {up.headers.get('set-auth-token')}"}
        r = self.server.request("POST", "/api/auth/sign-out", b"{}",
                                {**auth, "Content-Type": "application/json"})
        self.assertEqual(r.status, 200, r.describe())
        self.assertEqual(r.json, {"success": True})
        self.assert_signed_out(self.server.request("GET", "/api/auth/get-session", headers=auth))


class SignOutTest(AuthFlowBase):
    def test_sign_out_clears_cookie_and_deletes_session(self):
        c, _, up = self.signed_up()
        old_cookie = c.session_cookie
        r = c.sign_out()
        self.assertEqual(r.status, 200, r.describe())
        self.assertEqual(r.json, {"success": True})
        self.assertEqual(r.headers.get("cache-control"), "no-store")
        cleared = r.set_cookie()
        self.assertIsNotNone(cleared, r.describe())
        # Byte for byte what Better Auth sends.
        self.assertEqual(cleared.raw, f"{COOKIE_NAME}=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax")
        self.assertNotIn(COOKIE_NAME, c.jar)
        self.assert_signed_out(c.get_session())
        # Replaying the old cookie: null, and the browser is told to drop it.
        r = self.server.request("GET", "/api/auth/get-session",
                                headers={"Cookie": f"{COOKIE_NAME}={old_cookie}"})
        self.assert_signed_out(r)
        dropped = r.set_cookie()
        self.assertIsNotNone(dropped, r.describe())
        self.assertEqual(dropped.max_age, 0)
        # Bearer with the same token: gone too.
        for value in (up.headers.get("set-auth-token"), up.json["token"]):
            self.assert_signed_out(self.server.request(
                "GET", "/api/auth/get-session", headers={"Authorization": f"Bearer {value}"}))

    def test_sign_out_without_session_succeeds(self):
        r = self.server.request("POST", "/api/auth/sign-out")
        self.assertEqual(r.status, 200, r.describe())
        self.assertEqual(r.json, {"success": True})
        self.assertTrue(any(c.name == COOKIE_NAME and c.max_age == 0 for c in r.set_cookies),
                        r.describe())
        # With a JSON body and a stale cookie (plus the Origin that a cookie requires).
        c = self.client()
        c.jar[COOKIE_NAME] = encode_uri_component(sign("Q" * 43))
        r = c.post_json("/api/auth/sign-out", {})
        self.assertEqual(r.status, 200, r.describe())
        self.assertEqual(r.json, {"success": True})

    def test_sign_out_twice(self):
        c, _, _ = self.signed_up()
        cookie = c.session_cookie
        self.assertEqual(c.sign_out().status, 200)
        c.jar[COOKIE_NAME] = cookie
        r = c.sign_out()
        self.assertEqual(r.status, 200, r.describe())
        self.assertEqual(r.json, {"success": True})


class MultiDeviceTest(AuthFlowBase):
    def test_signing_out_one_device_leaves_the_other(self):
        _, email, up = self.signed_up()
        laptop, phone = self.client(user_agent="laptop"), self.client(user_agent="phone")
        self.assertEqual(laptop.sign_in(email).status, 200)
        self.assertEqual(phone.sign_in(email).status, 200)
        sl, sp = laptop.get_session(), phone.get_session()
        self.assertEqual(sl.json["user"]["id"], sp.json["user"]["id"])
        self.assertNotEqual(sl.json["session"]["id"], sp.json["session"]["id"])
        self.assertNotEqual(sl.json["session"]["token"], sp.json["session"]["token"])
        self.assertEqual(sl.json["session"]["userAgent"], "laptop")
        self.assertEqual(sp.json["session"]["userAgent"], "phone")
        self.assertEqual(laptop.sign_out().status, 200)
        self.assert_signed_out(laptop.get_session())
        r = phone.get_session()
        self.assert_session_of(r, up.json["user"]["id"])
        self.assertEqual(r.json["session"]["id"], sp.json["session"]["id"])

    def test_users_are_isolated(self):
        a, _, ua = self.signed_up()
        b, _, ub = self.signed_up()
        self.assertNotEqual(ua.json["user"]["id"], ub.json["user"]["id"])
        self.assertEqual(a.get_session().json["user"]["id"], ua.json["user"]["id"])
        self.assertEqual(b.get_session().json["user"]["id"], ub.json["user"]["id"])


class HealthAndRoutingTest(AuthFlowBase):
    def test_healthz_and_readyz(self):
        r = self.server.request("GET", "/healthz")
        self.assertEqual((r.status, r.json), (200, {"status": "ok"}), r.describe())
        self.assertEqual((r.headers.get("content-type") or "").split(";")[0], "application/json")
        r = self.server.request("GET", "/readyz")
        self.assertEqual((r.status, r.json), (200, {"status": "ready"}), r.describe())

    def test_head_healthz(self):
        r = self.server.request("HEAD", "/healthz")
        self.assertEqual(r.status, 200, r.describe())
        self.assertEqual(r.body, b"")

    def test_unknown_route_is_json_404(self):
        for path in ("/nope", "/api/auth/does-not-exist", "/api/auth", "/"):
            with self.subTest(path=path):
                r = self.server.request("GET", path)
                self.assert_error(r, 404, "NOT_FOUND")
        r = self.server.request("POST", "/api/auth/nope", b"{}",
                                {"Content-Type": "application/json"})
        self.assert_error(r, 404, "NOT_FOUND")

    def test_wrong_method_is_405_with_allow(self):
        for method, path, allowed in (("GET", "/api/auth/sign-in/email", "POST"),
                                      ("GET", "/api/auth/sign-up/email", "POST"),
                                      ("GET", "/api/auth/sign-out", "POST"),
                                      ("POST", "/api/auth/get-session", "GET"),
                                      ("DELETE", "/healthz", "GET")):
            with self.subTest(method=method, path=path):
                r = self.server.request(method, path, b"{}" if method == "POST" else None,
                                        {"Content-Type": "application/json"})
                self.assert_error(r, 405, "METHOD_NOT_ALLOWED")
                allow = [m.strip() for m in (r.headers.get("allow") or "").split(",")]
                self.assertIn(allowed, allow, r.describe())

    def test_keep_alive_connection_serves_several_requests(self):
        import http.client
        conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=10)
        try:
            for path in ("/healthz", "/api/auth/get-session", "/readyz", "/nope"):
                conn.request("GET", path)
                r = conn.getresponse()
                r.read()
                self.assertIn(r.status, (200, 404))
        finally:
            conn.close()


if __name__ == "__main__":
    unittest.main()
