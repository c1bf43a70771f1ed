"""Session management over the wire: list-sessions, revoke-session, revoke-other-sessions,
revoke-sessions, change-password and update-user, seen from three devices of one user (three
cookie jars, three sign-ins with different User-Agent headers) and from a second user who must
not be able to touch the first one's sessions. Also sign-in's callbackURL check and its email
validation.

Rate limiting is off here (the harness default); test_rate_limit.py covers it."""

import base64
import json
import os
import unittest

from sessiond_harness import (
    COOKIE_NAME, DEFAULT_PASSWORD, ISO_RE, SESSION_KEYS, USER_KEYS, ServerTestCase,
    encode_uri_component, parse_iso, sign, unique_email)

LIST = "/api/auth/list-sessions"
REVOKE_ONE = "/api/auth/revoke-session"
REVOKE_ALL = "/api/auth/revoke-sessions"
REVOKE_OTHERS = "/api/auth/revoke-other-sessions"
CHANGE_PASSWORD = "/api/auth/change-password"
UPDATE_USER = "/api/auth/update-user"

STATUS_TRUE = {"status": True}
UNAUTHORIZED = {"message": "Unauthorized", "code": "UNAUTHORIZED"}
CLEARED = {f"{COOKIE_NAME}", "better-auth.session_data", "better-auth.dont_remember"}

# The three devices of one user.
CHROME_WINDOWS = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
                  "(KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36")
SAFARI_IPHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 "
                 "(KHTML, like Gecko) Version/17.2 Mobile/15E148 Safari/604.1")
FIREFOX_LINUX = "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0"
DEVICE_AGENTS = (CHROME_WINDOWS, SAFARI_IPHONE, FIREFOX_LINUX)
DEVICE_FAMILIES = ("Chrome", "Mobile Safari", "Firefox")

NEW_PASSWORD = "a-brand-new-passphrase"


class Device:
    """One signed-in device: its client (cookie jar), the raw token and signed value it was
    given at sign-in, and its session as get-session reports it."""

    def __init__(self, client, sign_in_response, session):
        self.client = client
        self.token = sign_in_response.json["token"]
        self.signed = sign_in_response.headers.get("set-auth-token")
        self.cookie = client.session_cookie     # Wire value, kept to replay after revocation.
        self.session_id = session["id"]
        self.handle = session["token"]
        self.user_agent = client.user_agent


class SessionManagementBase(ServerTestCase):
    # -- set-up -----------------------------------------------------------------------------

    def three_devices(self, name="Test User"):
        """A new user signed in on exactly three devices (the sign-up session is signed out).
        Returns (email, user_id, [laptop, phone, desktop])."""
        setup, email, up = self.signed_up(name=name)
        self.assertEqual(setup.sign_out().status, 200)
        devices = []
        for ua in DEVICE_AGENTS:
            c = self.client(user_agent=ua)
            r = c.sign_in(email)
            self.assertEqual(r.status, 200, r.describe())
            g = c.get_session()
            self.assertEqual(g.status, 200, g.describe())
            devices.append(Device(c, r, g.json["session"]))
        return email, up.json["user"]["id"], devices

    # -- requests ---------------------------------------------------------------------------

    def list_sessions(self, device_or_client):
        c = getattr(device_or_client, "client", device_or_client)
        r = c.get(LIST)
        self.assertEqual(r.status, 200, r.describe())
        self.assert_no_store(r)
        self.assertIsInstance(r.json, list, r.describe())
        return r.json

    def revoke(self, device, value):
        return device.client.post_json(REVOKE_ONE, {"token": value})

    def replay(self, path, cookie, method="GET", body=None):
        """A request carrying `cookie` (a wire value) as the session cookie, with a trusted
        Origin, outside any jar."""
        h = {"Cookie": f"{COOKIE_NAME}={cookie}", "Origin": self.server.origin}
        if body is not None:
            h["Content-Type"] = "application/json"
            body = json.dumps(body).encode()
        return self.server.request(method, path, body, h)

    # -- assertions -------------------------------------------------------------------------

    def assert_no_store(self, r):
        self.assertEqual(r.headers.get("cache-control"), "no-store", r.describe())
        self.assertEqual((r.headers.get("content-type") or "").split(";")[0], "application/json",
                         r.describe())

    def assert_status_true(self, r):
        self.assertEqual(r.status, 200, r.describe())
        self.assertEqual(r.json, STATUS_TRUE, r.describe())
        self.assert_no_store(r)

    def assert_clears_cookies(self, r):
        deleted = {c.name for c in r.set_cookies if c.deletes}
        self.assertEqual(deleted, CLEARED, r.describe())
        for c in r.set_cookies:
            if c.name == COOKIE_NAME:
                self.assertEqual(c.raw,
                                 f"{COOKIE_NAME}=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax")

    def assert_keeps_cookie(self, r):
        self.assertFalse([c for c in r.set_cookies if c.deletes], r.describe())

    def assert_unauthorized(self, r):
        self.assertEqual(r.status, 401, r.describe())
        self.assertEqual(r.json, UNAUTHORIZED, r.describe())
        self.assertEqual((r.headers.get("content-type") or "").split(";")[0], "application/json")
        self.assertIsNone(r.set_cookie(), r.describe())

    def assert_in(self, device, user_id):
        self.assert_session_of(device.client.get_session(), user_id)

    def assert_out(self, device):
        """The device's original cookie gives no session (and, if the jar still held it, the
        answer tells the browser to drop it)."""
        r = self.replay("/api/auth/get-session", device.cookie)
        self.assert_signed_out(r)
        self.assert_clears_cookies(r)
        self.assert_unauthorized(self.replay(LIST, device.cookie))
        # The raw token as a bearer credential is dead too.
        r = self.server.request("GET", "/api/auth/get-session",
                                headers={"Authorization": f"Bearer {device.token}"})
        self.assert_signed_out(r)

    def assert_session_ids(self, device, expected_ids):
        listed = self.list_sessions(device)
        self.assertEqual(sorted(s["id"] for s in listed), sorted(expected_ids), listed)
        current = [s["id"] for s in listed if s["current"]]
        self.assertEqual(current, [device.session_id], listed)
        return listed


class ListSessionsTest(SessionManagementBase):
    def test_each_device_sees_all_three_sessions_and_itself_as_current(self):
        email, user_id, devices = self.three_devices()
        ids = [d.session_id for d in devices]
        self.assertEqual(len(set(ids)), 3)
        for me in devices:
            with self.subTest(device=me.user_agent):
                listed = self.assert_session_ids(me, ids)
                self.assertEqual(len(listed), 3)
                for s in listed:
                    self.assertEqual(set(s), SESSION_KEYS | {"current"}, s)
                    # Better Auth's key order, then sessiond's additions.
                    self.assertEqual(list(s)[:8], ["expiresAt", "token", "createdAt",
                                                   "updatedAt", "ipAddress", "userAgent",
                                                   "userId", "id"], s)
                    self.assertIs(s["current"], s["id"] == me.session_id)
                    self.assertEqual(s["userId"], user_id)
                    self.assertEqual(s["ipAddress"], "127.0.0.1")
                    for k in ("expiresAt", "createdAt", "updatedAt"):
                        self.assertRegex(s[k], ISO_RE)
                    self.assertGreater(parse_iso(s["expiresAt"]), parse_iso(s["createdAt"]))
                    owner = next(d for d in devices if d.session_id == s["id"])
                    self.assertEqual(s["userAgent"], owner.user_agent)
                    self.assertEqual(s["token"], owner.handle)   # Stable, same as get-session's.
                    parsed = s["userAgentParsed"]
                    self.assertEqual(set(parsed), {"family", "major", "minor", "patch", "device",
                                                   "os"}, parsed)
                    self.assertEqual(set(parsed["device"]), {"family", "brand", "model"})
                    self.assertEqual(set(parsed["os"]), {"family", "major", "minor", "patch"})
                    self.assertEqual(parsed["family"],
                                     DEVICE_FAMILIES[DEVICE_AGENTS.index(owner.user_agent)])

    def test_newest_first(self):
        _, _, devices = self.three_devices()
        listed = self.list_sessions(devices[0])
        created = [parse_iso(s["createdAt"]) for s in listed]
        self.assertEqual(created, sorted(created, reverse=True), listed)
        # Where the sign-ins got distinct timestamps, the later sign-in is listed first.
        position = {s["id"]: i for i, s in enumerate(listed)}
        by_id = {s["id"]: parse_iso(s["createdAt"]) for s in listed}
        for earlier, later in ((0, 1), (1, 2), (0, 2)):
            a, b = devices[earlier].session_id, devices[later].session_id
            self.assertLessEqual(by_id[a], by_id[b])
            if by_id[a] < by_id[b]:
                self.assertLess(position[b], position[a], listed)

    def test_token_field_is_a_handle_not_a_credential(self):
        email, user_id, devices = self.three_devices()
        listed = self.list_sessions(devices[1])
        handles = [s["token"] for s in listed]
        self.assertEqual(len(set(handles)), 3, handles)
        secrets = set()
        for d in devices:
            secrets |= {d.token, d.signed, d.cookie}
        for h in handles:
            self.assertIsInstance(h, str)
            self.assertEqual(len(h), 43, h)
            self.assertNotIn(h, secrets)
            for d in devices:
                self.assertNotIn(d.token, h)
        for h in handles:
            with self.subTest(handle=h):
                # As a bearer credential: raw, signed, signed and percent-encoded.
                for value in (h, sign(h), encode_uri_component(sign(h))):
                    r = self.server.request("GET", "/api/auth/get-session",
                                            headers={"Authorization": f"Bearer {value}"})
                    self.assert_signed_out(r)
                    self.assert_unauthorized(self.server.request(
                        "GET", LIST, headers={"Authorization": f"Bearer {value}"}))
                # As the cookie value: unsigned, and correctly signed with the server secret.
                for value in (h, encode_uri_component(sign(h))):
                    self.assert_signed_out(self.replay("/api/auth/get-session", value))
                    self.assert_unauthorized(self.replay(LIST, value))
                    self.assert_unauthorized(self.replay(REVOKE_ALL, value, "POST", {}))
        # Nothing was ended along the way.
        for d in devices:
            self.assert_in(d, user_id)

    def test_list_sessions_with_bearer(self):
        _, email, up = self.signed_up()
        other = self.client()
        self.assertEqual(other.sign_in(email).status, 200)
        bearer = {"Authorization": f"Bearer {up.headers.get('set-auth-token')}"}
        r = self.server.request("GET", LIST, headers=bearer)
        self.assertEqual(r.status, 200, r.describe())
        self.assertEqual(len(r.json), 2)
        current = [s for s in r.json if s["current"]]
        self.assertEqual(len(current), 1)
        self.assertEqual(current[0]["userAgent"], "sessiond-integration-tests/1.0")

    def test_only_live_sessions_are_listed(self):
        email, user_id, devices = self.three_devices()
        self.assertEqual(devices[2].client.sign_out().status, 200)
        self.assert_session_ids(devices[0], [devices[0].session_id, devices[1].session_id])


class RevokeSessionTest(SessionManagementBase):
    def test_revoke_one_device_by_handle(self):
        email, user_id, (laptop, phone, desktop) = self.three_devices()
        handle = next(s["token"] for s in self.list_sessions(laptop)
                      if s["id"] == phone.session_id)
        r = self.revoke(laptop, handle)
        self.assert_status_true(r)
        self.assert_keeps_cookie(r)
        # The phone is out, everywhere; the laptop and the desktop are not.
        self.assert_out(phone)
        r = phone.client.get_session()
        self.assert_signed_out(r)
        self.assertIsNone(phone.client.session_cookie, "the phone's cookie should be dropped")
        self.assert_in(laptop, user_id)
        self.assert_in(desktop, user_id)
        self.assert_session_ids(laptop, [laptop.session_id, desktop.session_id])
        self.assert_session_ids(desktop, [laptop.session_id, desktop.session_id])
        # Revoking it again is a no-op that still answers {"status":true}.
        self.assert_status_true(self.revoke(desktop, handle))
        self.assert_session_ids(desktop, [laptop.session_id, desktop.session_id])
        # The revoked device cannot manage sessions any more.
        self.assert_unauthorized(self.replay(REVOKE_ONE, phone.cookie, "POST",
                                             {"token": laptop.handle}))
        self.assert_unauthorized(self.replay(REVOKE_OTHERS, phone.cookie, "POST", {}))
        self.assert_in(laptop, user_id)

    def test_revoke_by_raw_session_token(self):
        email, user_id, (laptop, phone, desktop) = self.three_devices()
        self.assert_status_true(self.revoke(phone, desktop.token))
        self.assert_out(desktop)
        self.assert_in(laptop, user_id)
        self.assert_in(phone, user_id)
        self.assert_session_ids(phone, [laptop.session_id, phone.session_id])

    def test_revoke_own_current_session_clears_cookie(self):
        email, user_id, (laptop, phone, desktop) = self.three_devices()
        r = self.revoke(laptop, laptop.handle)
        self.assert_status_true(r)
        self.assert_clears_cookies(r)
        self.assertIsNone(laptop.client.session_cookie)
        self.assert_signed_out(laptop.client.get_session())
        self.assert_out(laptop)
        self.assert_in(phone, user_id)
        self.assert_in(desktop, user_id)
        self.assert_session_ids(phone, [phone.session_id, desktop.session_id])

    def test_revoke_own_current_session_by_raw_token(self):
        email, user_id, (laptop, phone, desktop) = self.three_devices()
        r = self.revoke(phone, phone.token)
        self.assert_status_true(r)
        self.assert_clears_cookies(r)
        self.assert_out(phone)
        self.assert_session_ids(laptop, [laptop.session_id, desktop.session_id])

    def test_unknown_values_change_nothing(self):
        email, user_id, devices = self.three_devices()
        laptop = devices[0]
        random_43 = base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip("=")
        for value in ("", "nope", random_43, "x" * 5000, laptop.handle + "A",
                      laptop.handle[:-1], laptop.signed, sign(laptop.handle),
                      laptop.session_id):
            with self.subTest(value=value[:60]):
                r = self.revoke(laptop, value)
                self.assert_status_true(r)
                self.assert_keeps_cookie(r)
        for d in devices:
            self.assert_in(d, user_id)
        self.assert_session_ids(laptop, [d.session_id for d in devices])

    def test_bad_bodies(self):
        email, user_id, devices = self.three_devices()
        laptop = devices[0]
        for body in ({}, {"token": None}, {"token": 5}, {"token": ["a"]}, {"sessionId": "x"}):
            with self.subTest(body=body):
                r = laptop.client.post_json(REVOKE_ONE, body)
                self.assert_error(r, 400, "VALIDATION_ERROR")
        r = laptop.client.request("POST", REVOKE_ONE, body=b"{", content_type="application/json")
        self.assert_error(r, 400, "INVALID_JSON")
        for d in devices:
            self.assert_in(d, user_id)


class RevokeManyTest(SessionManagementBase):
    def test_revoke_other_sessions(self):
        email, user_id, (laptop, phone, desktop) = self.three_devices()
        r = phone.client.post_json(REVOKE_OTHERS, {})
        self.assert_status_true(r)
        self.assert_keeps_cookie(r)
        self.assert_in(phone, user_id)
        self.assert_out(laptop)
        self.assert_out(desktop)
        listed = self.assert_session_ids(phone, [phone.session_id])
        self.assertIs(listed[0]["current"], True)
        # Again: nothing left to end, still fine.
        self.assert_status_true(phone.client.post_json(REVOKE_OTHERS, {}))
        self.assert_in(phone, user_id)
        # A new sign-in on the laptop works and shows up next to the phone.
        self.assertEqual(laptop.client.sign_in(email).status, 200)
        self.assertEqual(len(self.list_sessions(phone)), 2)

    def test_revoke_sessions_ends_every_session_including_the_callers(self):
        email, user_id, (laptop, phone, desktop) = self.three_devices()
        r = desktop.client.post_json(REVOKE_ALL, {})
        self.assert_status_true(r)
        self.assert_clears_cookies(r)
        cookie = r.set_cookie()
        self.assertEqual(cookie.max_age, 0)
        self.assertIsNone(desktop.client.session_cookie)
        for d in (laptop, phone, desktop):
            self.assert_out(d)
            self.assert_signed_out(d.client.get_session())
        # A stale cookie can't call it again, nor list anything.
        self.assert_unauthorized(self.replay(REVOKE_ALL, laptop.cookie, "POST", {}))
        # The account itself is fine: signing in again works.
        c = self.client()
        self.assertEqual(c.sign_in(email).status, 200)
        self.assertEqual(len(self.list_sessions(c)), 1)

    def test_curl_style_posts_without_a_body(self):
        email, user_id, (laptop, phone, desktop) = self.three_devices()
        r = laptop.client.request("POST", REVOKE_OTHERS)
        self.assert_status_true(r)
        self.assert_out(phone)
        r = laptop.client.request("POST", REVOKE_ALL)
        self.assert_status_true(r)
        self.assert_out(laptop)

    def test_bearer_client_revokes_others_without_origin(self):
        email, user_id, (laptop, phone, desktop) = self.three_devices()
        r = self.server.request("POST", REVOKE_OTHERS, b"{}",
                                {"Authorization": f"Bearer {desktop.signed}",
                                 "Content-Type": "application/json"})
        self.assert_status_true(r)
        self.assert_in(desktop, user_id)
        self.assert_out(laptop)
        self.assert_out(phone)


class RequiresSessionTest(SessionManagementBase):
    CALLS = [("GET", LIST, None), ("POST", REVOKE_ONE, {"token": "x" * 43}),
             ("POST", REVOKE_ALL, {}), ("POST", REVOKE_OTHERS, {}),
             ("POST", CHANGE_PASSWORD, {"currentPassword": DEFAULT_PASSWORD,
                                        "newPassword": NEW_PASSWORD}),
             ("POST", UPDATE_USER, {"name": "Mallory"})]

    def call(self, method, path, body, headers):
        h = dict(headers)
        data = None
        if body is not None:
            h["Content-Type"] = "application/json"
            data = json.dumps(body).encode()
        return self.server.request(method, path, data, h)

    def test_no_or_bad_credential_is_401(self):
        _, email, up = self.signed_up()
        token = up.json["token"]
        revoked = self.client()
        self.assertEqual(revoked.sign_in(email).status, 200)
        revoked_cookie = revoked.session_cookie
        self.assertEqual(revoked.sign_out().status, 200)
        origin = {"Origin": self.server.origin}
        credentials = {
            "none": {},
            "forged cookie": {"Cookie": f"{COOKIE_NAME}={encode_uri_component(token + '.AAAA')}",
                              **origin},
            "unsigned cookie": {"Cookie": f"{COOKIE_NAME}={token}", **origin},
            "signed-out cookie": {"Cookie": f"{COOKIE_NAME}={revoked_cookie}", **origin},
            "wrong bearer": {"Authorization": "Bearer " + "A" * 43},
            "garbage bearer": {"Authorization": "Bearer nonsense"},
        }
        for label, headers in credentials.items():
            for method, path, body in self.CALLS:
                with self.subTest(credential=label, path=path):
                    self.assert_unauthorized(self.call(method, path, body, headers))
        # None of that changed the user.
        r = self.client().sign_in(email)
        self.assertEqual(r.status, 200, r.describe())
        self.assertEqual(r.json["user"]["name"], "Test User")

    def test_cookie_posts_need_a_trusted_origin(self):
        email, user_id, devices = self.three_devices()
        laptop = devices[0]
        for method, path, body in self.CALLS:
            if method != "POST":
                continue
            for origin, code in ((None, "MISSING_OR_NULL_ORIGIN"),
                                 ("null", "MISSING_OR_NULL_ORIGIN"),
                                 ("http://evil.example", "INVALID_ORIGIN")):
                with self.subTest(path=path, origin=origin):
                    h = {"Cookie": f"{COOKIE_NAME}={laptop.cookie}"}
                    if origin:
                        h["Origin"] = origin
                    if path == REVOKE_ONE:
                        body = {"token": devices[1].handle}
                    r = self.call(method, path, body, h)
                    self.assert_error(r, 403, code)
                    self.assertEqual(r.set_cookies, [])
        # Nothing happened: every device is in, the password and name are unchanged.
        for d in devices:
            self.assert_in(d, user_id)
        self.assertEqual(self.client().sign_in(email).status, 200)
        self.assertEqual(laptop.client.get_session().json["user"]["name"], "Test User")


class ChangePasswordTest(SessionManagementBase):
    def change(self, device, current=DEFAULT_PASSWORD, new=NEW_PASSWORD, **extra):
        body = {"currentPassword": current, "newPassword": new}
        body.update(extra)
        return device.client.post_json(CHANGE_PASSWORD, body)

    def assert_password_is(self, email, password, old=None):
        self.assertEqual(self.client().sign_in(email, password).status, 200)
        if old is not None:
            r = self.client().sign_in(email, old)
            self.assert_error(r, 401, "INVALID_EMAIL_OR_PASSWORD")

    def assert_new_session_issued(self, r, device, user_id, email):
        self.assertEqual(r.status, 200, r.describe())
        self.assert_no_store(r)
        self.assertEqual(set(r.json), {"token", "user"}, r.json)
        user = r.json["user"]
        self.assertEqual(set(user), USER_KEYS)
        self.assertEqual(user["id"], user_id)
        self.assertEqual(user["email"], email.lower())
        token = r.json["token"]
        self.assertIsInstance(token, str)
        self.assertEqual(len(token), 43)
        self.assertNotEqual(token, device.token)
        self.assertEqual(r.headers.get("set-auth-token"), sign(token))
        self.assertIn("set-auth-token", (r.headers.get("access-control-expose-headers") or ""))
        c = r.set_cookie()
        self.assertIsNotNone(c, r.describe())
        self.assertFalse(c.deletes)
        self.assertEqual(c.decoded_value, sign(token))
        self.assertEqual(c.raw, f"{COOKIE_NAME}={encode_uri_component(sign(token))}; "
                                "Max-Age=604800; Path=/; HttpOnly; SameSite=Lax")
        return token

    def test_change_keeps_other_devices(self):
        email, user_id, (laptop, phone, desktop) = self.three_devices()
        r = self.change(laptop)
        token = self.assert_new_session_issued(r, laptop, user_id, email)
        # The old laptop credential (cookie, raw token) is dead; the jar's new one works.
        self.assert_out(laptop)
        g = laptop.client.get_session()
        self.assert_session_of(g, user_id)
        new_id = g.json["session"]["id"]
        self.assertNotEqual(new_id, laptop.session_id)
        self.assertEqual(g.json["session"]["userAgent"], CHROME_WINDOWS)
        r2 = self.server.request("GET", "/api/auth/get-session",
                                 headers={"Authorization": f"Bearer {token}"})
        self.assert_session_of(r2, user_id)
        # Phone and desktop keep working.
        self.assert_in(phone, user_id)
        self.assert_in(desktop, user_id)
        listed = self.list_sessions(phone)
        self.assertEqual(sorted(s["id"] for s in listed),
                         sorted([new_id, phone.session_id, desktop.session_id]))
        laptop_view = self.list_sessions(laptop)
        self.assertEqual([s["id"] for s in laptop_view if s["current"]], [new_id])
        # Sign-in: old password refused, new one accepted.
        self.assert_password_is(email, NEW_PASSWORD, old=DEFAULT_PASSWORD)

    def test_change_with_revoke_other_sessions(self):
        email, user_id, (laptop, phone, desktop) = self.three_devices()
        r = self.change(phone, revokeOtherSessions=True)
        self.assert_new_session_issued(r, phone, user_id, email)
        self.assert_out(phone)      # Its old token too.
        self.assert_out(laptop)
        self.assert_out(desktop)
        g = phone.client.get_session()
        self.assert_session_of(g, user_id)
        listed = self.list_sessions(phone)
        self.assertEqual([s["id"] for s in listed], [g.json["session"]["id"]])
        self.assertIs(listed[0]["current"], True)
        self.assert_password_is(email, NEW_PASSWORD, old=DEFAULT_PASSWORD)

    def test_revoke_other_sessions_false_is_the_default(self):
        email, user_id, (laptop, phone, desktop) = self.three_devices()
        r = self.change(desktop, revokeOtherSessions=False)
        self.assert_new_session_issued(r, desktop, user_id, email)
        self.assert_in(laptop, user_id)
        self.assert_in(phone, user_id)
        self.assertEqual(len(self.list_sessions(laptop)), 3)

    def test_wrong_current_password(self):
        email, user_id, devices = self.three_devices()
        laptop = devices[0]
        for wrong in ("wrong-password-1", "", DEFAULT_PASSWORD.upper(), NEW_PASSWORD):
            with self.subTest(current=wrong):
                r = self.change(laptop, current=wrong)
                self.assertEqual(r.status, 400, r.describe())
                self.assertEqual(r.json, {"message": "Invalid password",
                                          "code": "INVALID_PASSWORD"})
                self.assertEqual(r.set_cookies, [])
                self.assertIsNone(r.headers.get("set-auth-token"))
        for d in devices:
            self.assert_in(d, user_id)
        self.assert_password_is(email, DEFAULT_PASSWORD, old=NEW_PASSWORD)

    def test_new_password_length_rules(self):
        email, user_id, devices = self.three_devices()
        laptop = devices[0]
        for new, code in (("short", "PASSWORD_TOO_SHORT"), ("", "PASSWORD_TOO_SHORT"),
                          ("x" * 7, "PASSWORD_TOO_SHORT"), ("y" * 129, "PASSWORD_TOO_LONG")):
            with self.subTest(length=len(new)):
                r = self.change(laptop, new=new)
                self.assert_error(r, 400, code)
                self.assertEqual(r.set_cookies, [])
        for d in devices:
            self.assert_in(d, user_id)
        self.assert_password_is(email, DEFAULT_PASSWORD)

    def test_validation_errors(self):
        email, user_id, devices = self.three_devices()
        laptop = devices[0]
        for body in ({"newPassword": NEW_PASSWORD},
                     {"currentPassword": DEFAULT_PASSWORD},
                     {"currentPassword": 5, "newPassword": NEW_PASSWORD},
                     {"currentPassword": DEFAULT_PASSWORD, "newPassword": None},
                     {"currentPassword": DEFAULT_PASSWORD, "newPassword": NEW_PASSWORD,
                      "revokeOtherSessions": "yes"}):
            with self.subTest(body=body):
                r = laptop.client.post_json(CHANGE_PASSWORD, body)
                self.assert_error(r, 400, "VALIDATION_ERROR")
        for d in devices:
            self.assert_in(d, user_id)
        self.assert_password_is(email, DEFAULT_PASSWORD)

    def test_remember_me_false_session_stays_a_browser_session(self):
        _, email, up = self.signed_up()
        c = self.client()
        self.assertEqual(c.sign_in(email, rememberMe=False).status, 200)
        r = c.post_json(CHANGE_PASSWORD, {"currentPassword": DEFAULT_PASSWORD,
                                          "newPassword": NEW_PASSWORD})
        self.assertEqual(r.status, 200, r.describe())
        cookie = r.set_cookie()
        self.assertIsNotNone(cookie)
        self.assertIsNone(cookie.max_age, cookie.raw)
        self.assert_session_of(c.get_session(), up.json["user"]["id"])

    def test_bearer_client_changes_password(self):
        email, user_id, (laptop, phone, desktop) = self.three_devices()
        r = self.server.request("POST", CHANGE_PASSWORD,
                                json.dumps({"currentPassword": DEFAULT_PASSWORD,
                                            "newPassword": NEW_PASSWORD}).encode(),
                                {"Authorization": f"Bearer {desktop.signed}",
                                 "Content-Type": "application/json"})
        self.assertEqual(r.status, 200, r.describe())
        self.assert_out(desktop)
        bearer = {"Authorization": f"Bearer {r.headers.get('set-auth-token')}"}
        r2 = self.server.request("GET", "/api/auth/get-session", headers=bearer)
        self.assert_session_of(r2, user_id)
        self.assert_in(laptop, user_id)


class UpdateUserTest(SessionManagementBase):
    def user_seen_by(self, device):
        r = device.client.get_session()
        self.assertEqual(r.status, 200, r.describe())
        return r.json["user"]

    def test_update_name_and_image_seen_by_every_device(self):
        email, user_id, (laptop, phone, desktop) = self.three_devices(name="Alice")
        before = self.user_seen_by(laptop)
        r = laptop.client.post_json(UPDATE_USER, {"name": "Alice Liddell",
                                                  "image": "https://cdn.example.com/alice.png"})
        self.assert_status_true(r)
        self.assert_keeps_cookie(r)
        for d in (laptop, phone, desktop):
            u = self.user_seen_by(d)
            self.assertEqual(set(u), USER_KEYS)
            self.assertEqual(u["name"], "Alice Liddell")
            self.assertEqual(u["image"], "https://cdn.example.com/alice.png")
            self.assertEqual(u["email"], email.lower())
            self.assertEqual(u["id"], user_id)
            self.assertEqual(u["createdAt"], before["createdAt"])
            self.assertGreaterEqual(parse_iso(u["updatedAt"]), parse_iso(before["updatedAt"]))
        # Name only: the image stays.
        self.assert_status_true(phone.client.post_json(UPDATE_USER, {"name": "Al"}))
        u = self.user_seen_by(desktop)
        self.assertEqual((u["name"], u["image"]), ("Al", "https://cdn.example.com/alice.png"))
        # Image only.
        self.assert_status_true(desktop.client.post_json(
            UPDATE_USER, {"image": "https://cdn.example.com/b.png"}))
        u = self.user_seen_by(laptop)
        self.assertEqual((u["name"], u["image"]), ("Al", "https://cdn.example.com/b.png"))
        # image: null clears it.
        self.assert_status_true(laptop.client.post_json(UPDATE_USER, {"image": None}))
        u = self.user_seen_by(phone)
        self.assertEqual((u["name"], u["image"]), ("Al", None))
        # An empty update changes nothing.
        self.assert_status_true(laptop.client.post_json(UPDATE_USER, {}))
        u = self.user_seen_by(phone)
        self.assertEqual((u["name"], u["image"]), ("Al", None))
        # Sign-in reports the new profile; every session survived the updates.
        r = self.client().sign_in(email)
        self.assertEqual(r.json["user"]["name"], "Al")
        self.assertIsNone(r.json["user"]["image"])
        self.assertEqual(len(self.list_sessions(laptop)), 4)

    def test_email_cannot_be_changed_here(self):
        email, user_id, (laptop, phone, desktop) = self.three_devices(name="Carol")
        taken = unique_email("other")
        r = laptop.client.post_json(UPDATE_USER, {"email": taken, "emailVerified": True,
                                                  "id": "x" * 32, "name": "Caroline"})
        self.assert_status_true(r)   # Unknown fields are ignored, as for the other routes.
        u = self.user_seen_by(phone)
        self.assertEqual((u["id"], u["email"], u["emailVerified"], u["name"]),
                         (user_id, email.lower(), False, "Caroline"))
        self.assertEqual(self.client().sign_in(taken).status, 401)
        self.assertEqual(self.client().sign_in(email).status, 200)

    def test_wrong_types_and_lengths(self):
        email, user_id, (laptop, phone, desktop) = self.three_devices(name="Bob")
        for body in ({"name": 5}, {"name": ["x"]}, {"name": {"first": "B"}}, {"name": True},
                     {"image": 7}, {"image": False}, {"name": "x" * 257},
                     {"image": "https://cdn.example.com/" + "i" * 2048}):
            with self.subTest(body=str(body)[:60]):
                r = laptop.client.post_json(UPDATE_USER, body)
                self.assert_error(r, 400, "VALIDATION_ERROR")
        r = laptop.client.request("POST", UPDATE_USER, body=b"[1]",
                                  content_type="application/json")
        self.assert_error(r, 400, "INVALID_JSON")
        u = self.user_seen_by(phone)
        self.assertEqual((u["name"], u["image"]), ("Bob", None))
        # The longest allowed values are accepted.
        self.assert_status_true(laptop.client.post_json(UPDATE_USER, {"name": "n" * 256}))
        self.assertEqual(self.user_seen_by(desktop)["name"], "n" * 256)


class SecondUserTest(SessionManagementBase):
    def test_second_user_cannot_touch_the_first_users_sessions(self):
        email, user_id, (laptop, phone, desktop) = self.three_devices(name="Alice")
        mallory, m_email, m_up = self.signed_up(name="Mallory")
        m_id = m_up.json["user"]["id"]
        # Mallory sees only her own session.
        listed = self.list_sessions(mallory)
        self.assertEqual(len(listed), 1)
        self.assertEqual(listed[0]["userId"], m_id)
        self.assertIs(listed[0]["current"], True)
        ids = {d.session_id for d in (laptop, phone, desktop)}
        self.assertFalse(ids & {s["id"] for s in listed})
        # Alice sees only hers.
        self.assertEqual({s["id"] for s in self.list_sessions(laptop)}, ids)
        # Alice's handles, raw tokens and ids: accepted as "done", nothing ends.
        for value in (laptop.handle, phone.handle, desktop.token, desktop.signed,
                      laptop.session_id):
            with self.subTest(value=value):
                r = mallory.post_json(REVOKE_ONE, {"token": value})
                self.assertEqual(r.status, 200, r.describe())
                self.assertEqual(r.json, STATUS_TRUE)
                self.assert_keeps_cookie(r)
        for d in (laptop, phone, desktop):
            self.assert_in(d, user_id)
        self.assert_session_of(mallory.get_session(), m_id)
        # Her revoke-other-sessions / revoke-sessions stay within her own account.
        self.assert_status_true(mallory.post_json(REVOKE_OTHERS, {}))
        self.assert_status_true(mallory.post_json(REVOKE_ALL, {}))
        self.assert_signed_out(mallory.get_session())
        for d in (laptop, phone, desktop):
            self.assert_in(d, user_id)
        self.assertEqual({s["id"] for s in self.list_sessions(desktop)}, ids)

    def test_second_user_updates_and_password_changes_stay_in_their_account(self):
        email, user_id, devices = self.three_devices(name="Alice")
        mallory, m_email, _ = self.signed_up(name="Mallory")
        self.assert_status_true(mallory.post_json(UPDATE_USER, {"name": "Alice?"}))
        r = mallory.post_json(CHANGE_PASSWORD, {"currentPassword": DEFAULT_PASSWORD,
                                                "newPassword": NEW_PASSWORD,
                                                "revokeOtherSessions": True})
        self.assertEqual(r.status, 200, r.describe())
        for d in devices:
            self.assert_in(d, user_id)
            self.assertEqual(d.client.get_session().json["user"]["name"], "Alice")
        self.assertEqual(self.client().sign_in(email).status, 200)
        self.assertEqual(self.client().sign_in(m_email, NEW_PASSWORD).status, 200)
        # Alice can still revoke her own things; Mallory's session isn't in her list.
        self.assertEqual(len(self.list_sessions(devices[0])), 4)


class SignInCallbackAndEmailTest(SessionManagementBase):
    def test_local_callback_url(self):
        _, email, up = self.signed_up()
        for url in ("/dashboard", "/", "/a/b?c=d#e"):
            with self.subTest(url=url):
                c = self.client()
                r = c.sign_in(email, callbackURL=url)
                self.assertEqual(r.status, 200, r.describe())
                self.assertEqual(set(r.json), {"redirect", "url", "token", "user"}, r.json)
                self.assertIs(r.json["redirect"], True)
                self.assertEqual(r.json["url"], url)
                self.assertEqual(r.json["user"]["id"], up.json["user"]["id"])
                self.assertEqual(r.headers.get("set-auth-token"), sign(r.json["token"]))
                self.assertIsNotNone(r.set_cookie())
                self.assert_session_of(c.get_session(), up.json["user"]["id"])

    def test_callback_url_on_own_origin_is_allowed(self):
        _, email, _ = self.signed_up()
        url = f"{self.server.origin}/dashboard"
        r = self.client().sign_in(email, callbackURL=url)
        self.assertEqual(r.status, 200, r.describe())
        self.assertEqual(r.json["url"], url)

    def test_null_callback_url_means_none(self):
        _, email, _ = self.signed_up()
        r = self.client().sign_in(email, callbackURL=None)
        self.assertEqual(r.status, 200, r.describe())
        self.assertIs(r.json["redirect"], False)
        self.assertNotIn("url", r.json)

    def test_foreign_callback_url_is_refused(self):
        _, email, _ = self.signed_up()
        for url in ("https://evil.example/x", "//evil.example", "//evil.example/x",
                    "/\\evil.example", "http://evil.example", "javascript:alert(1)",
                    f"https://127.0.0.1:{self.server.port}/x",
                    f"http://127.0.0.1:{self.server.port}.evil.example/x"):
            with self.subTest(url=url):
                c = self.client()
                r = c.sign_in(email, callbackURL=url)
                self.assertEqual(r.status, 403, r.describe())
                self.assertEqual(r.json, {"message": "Invalid callbackURL",
                                          "code": "INVALID_CALLBACKURL"})
                self.assertEqual(r.set_cookies, [])
                self.assertIsNone(r.headers.get("set-auth-token"))
                self.assert_signed_out(c.get_session())

    def test_callback_url_of_wrong_type(self):
        _, email, _ = self.signed_up()
        r = self.client().sign_in(email, callbackURL=5)
        self.assert_error(r, 400, "VALIDATION_ERROR")

    def test_sign_up_refuses_foreign_callback_url_too(self):
        email = unique_email()
        r = self.client().sign_up(email=email, callbackURL="https://evil.example/x")
        self.assert_error(r, 403, "INVALID_CALLBACKURL", "Invalid callbackURL")
        self.assertEqual(r.set_cookies, [])
        self.assertEqual(self.client().sign_in(email).status, 401)  # No account was made.

    def test_malformed_email_on_sign_in(self):
        for bad in ("not-an-email", "@example.com", "alice@", "alice@@example.com",
                    "alice example@example.com", "", "alice@example.com\n"):
            with self.subTest(email=bad):
                r = self.client().sign_in(bad)
                self.assertEqual(r.status, 400, r.describe())
                self.assertEqual(r.json, {"message": "Invalid email", "code": "INVALID_EMAIL"})
                self.assertEqual(r.set_cookies, [])
        self.assert_healthy()


if __name__ == "__main__":
    unittest.main()
