"""Rate limiting over the wire (seed 002: 10 requests per 60 s per IP on the auth routes), the
per-account sign-in limit, X-Forwarded-For handling, switching it off, and invalid rules.

Every client here connects from 127.0.0.1, so counters are shared by all tests of a class: each
class with rate limiting on gets its own server and is written so its tests do not eat each
other's budget (a class holds one test, or its tests use their own emails / X-Forwarded-For
addresses). All requests of a check are made well within the 60 s window; nothing waits."""

import itertools
import subprocess
import tempfile
import unittest

from sessiond_harness import (
    DEFAULT_PASSWORD, FAST_HASH_ARGS, FAST_HASH_ENV, TEST_SECRET, ServerTestCase, binary_path,
    clean_env, unique_email)

TOO_MANY = {"message": "Too many requests. Please try again later.", "code": "TOO_MANY_REQUESTS"}
WRONG = "wrong-password-123"
SIGN_IN = "/api/auth/sign-in/email"
RUN_TIMEOUT_S = 10

# Sign-in per IP effectively unlimited, 5 attempts per account per 15 minutes.
ACCOUNT_ONLY_RULES = "/api/auth/sign-in/*=1000/60s,account:sign-in=5/900s"

_addresses = (f"198.51.100.{i}" for i in itertools.count(1))


def next_address():
    """A fresh documentation-range IPv4 address for X-Forwarded-For."""
    return next(_addresses)


class RateLimitedCase(ServerTestCase):
    rate_limit = True

    def sign_up_user(self):
        """A user made with one sign-up request (the sign-up bucket, not sign-in's)."""
        _, email, up = self.signed_up()
        return email, up.json["user"]["id"]

    def sign_in(self, email, password=DEFAULT_PASSWORD, headers=None, client=None):
        """One sign-in from a fresh device (or `client`), with extra request headers."""
        c = client or self.client()
        return c.post_json(SIGN_IN, {"email": email, "password": password}, headers=headers)

    def assert_limit_headers(self, r, limit, remaining=None):
        self.assertEqual(r.headers.get("x-ratelimit-limit"), str(limit), r.describe())
        rem = r.headers.get("x-ratelimit-remaining")
        self.assertIsNotNone(rem, r.describe())
        if remaining is not None:
            self.assertEqual(rem, str(remaining), r.describe())
        reset = r.headers.get("x-ratelimit-reset")
        self.assertIsNotNone(reset, r.describe())
        self.assertTrue(reset.isdigit(), r.describe())
        return int(rem), int(reset)

    def assert_too_many(self, r, *, window=60, limit_headers=True, limit=None):
        """A 429 with Better Auth-style body, Retry-After (1..window s), no cookie."""
        self.assertEqual(r.status, 429, r.describe())
        self.assertEqual(r.json, TOO_MANY, r.describe())
        self.assertEqual((r.headers.get("content-type") or "").split(";")[0], "application/json")
        retry = r.headers.get("retry-after")
        self.assertIsNotNone(retry, r.describe())
        self.assertTrue(retry.isdigit(), r.describe())
        self.assertGreaterEqual(int(retry), 1, r.describe())
        self.assertLessEqual(int(retry), window, r.describe())
        self.assertEqual(r.headers.get("x-retry-after"), retry, r.describe())
        self.assertEqual(r.set_cookies, [], r.describe())
        self.assertIsNone(r.headers.get("set-auth-token"), r.describe())
        if limit_headers:
            rem, reset = self.assert_limit_headers(r, limit, 0)
            self.assertEqual(reset, int(retry), r.describe())


class PerIpSignInLimitTest(RateLimitedCase):
    def test_eleventh_sign_in_from_one_ip_within_a_minute_is_429(self):
        email, user_id = self.sign_up_user()
        for i in range(10):
            r = self.sign_in(email)
            self.assertEqual(r.status, 200, f"attempt {i + 1}: {r.describe()}")
            rem, reset = self.assert_limit_headers(r, 10, 9 - i)
            self.assertGreaterEqual(reset, 1, r.describe())
            self.assertLessEqual(reset, 60, r.describe())
        r = self.sign_in(email)
        self.assert_too_many(r, limit=10)
        # Per IP, not per account: another address's account (wrong password or right) too.
        other = unique_email()
        self.assert_too_many(self.sign_in(other), limit=10)
        # A form post to the same route is the same budget.
        r = self.client().post_form(SIGN_IN, {"email": email, "password": DEFAULT_PASSWORD})
        self.assert_too_many(r, limit=10)
        # Other routes have their own budgets: sign-up (1 used) and get-session still answer.
        c, _, _ = self.signed_up()
        r = c.get_session()
        self.assertEqual(r.status, 200, r.describe())
        self.assert_session_of(r, r.json["user"]["id"])
        self.assert_healthy()


class GetSessionBudgetTest(RateLimitedCase):
    def test_get_session_is_not_limited_at_ten(self):
        c, _, up = self.signed_up()
        for i in range(30):
            r = c.get_session()
            self.assertEqual(r.status, 200, f"get-session {i + 1}: {r.describe()}")
            self.assert_session_of(r, up.json["user"]["id"])
            self.assert_limit_headers(r, 600, 599 - i)
        # Signed-out polling is the same (and shares the budget of its path).
        for _ in range(15):
            r = self.client().get_session()
            self.assert_signed_out(r)
            self.assertEqual(r.headers.get("x-ratelimit-limit"), "600")
        self.assertEqual(self.server.request("GET", "/healthz").status, 200)


class CrossOriginAppTest(RateLimitedCase):
    """A web app on a trusted origin (trustedOrigins) calls sessiond with credentials. Its 429
    must carry the CORS headers its other answers carry, or the browser hides the 429 (and its
    Retry-After) behind a network error."""
    server_args = ["--set", "trustedOrigins=http://app.example"]

    def test_429_carries_cors_headers_for_a_trusted_origin(self):
        email, _ = self.sign_up_user()
        app = {"Origin": "http://app.example"}
        for i in range(10):
            r = self.sign_in(email, headers=app)
            self.assertEqual(r.status, 200, r.describe())
            self.assertEqual(r.headers.get("access-control-allow-origin"), "http://app.example",
                             r.describe())
        r = self.sign_in(email, headers=app)
        self.assert_too_many(r, limit=10)
        self.assertEqual(r.headers.get("access-control-allow-origin"), "http://app.example",
                         r.describe())
        self.assertEqual(r.headers.get("access-control-allow-credentials"), "true", r.describe())


class SessionChangingRoutesTest(RateLimitedCase):
    def test_update_user_limited_at_ten_per_minute(self):
        c, email, up = self.signed_up(name="Before")
        for i in range(10):
            r = c.post_json("/api/auth/update-user", {"name": f"Name {i}"})
            self.assertEqual(r.status, 200, r.describe())
            self.assert_limit_headers(r, 10, 9 - i)
        r = c.post_json("/api/auth/update-user", {"name": "Too Late"})
        self.assert_too_many(r, limit=10)
        # The refused request changed nothing.
        self.assertEqual(c.get_session().json["user"]["name"], "Name 9")


class PerAccountLimitTest(RateLimitedCase):
    server_args = ["--set", f"rateLimit.rules={ACCOUNT_ONLY_RULES}"]

    def test_five_failures_lock_the_account_even_for_the_right_password(self):
        email, user_id = self.sign_up_user()
        for i in range(5):
            r = self.sign_in(email, WRONG)
            self.assert_error(r, 401, "INVALID_EMAIL_OR_PASSWORD")
            # Per-IP headers are those of the 1000/60s rule.
            self.assertEqual(r.headers.get("x-ratelimit-limit"), "1000", r.describe())
        r = self.sign_in(email)
        self.assert_too_many(r, window=900, limit_headers=False)
        r = self.sign_in(email, WRONG)
        self.assert_too_many(r, window=900, limit_headers=False)
        # A different account from the same IP is unaffected.
        other, other_id = self.sign_up_user()
        r = self.sign_in(other)
        self.assertEqual(r.status, 200, r.describe())
        self.assertEqual(r.json["user"]["id"], other_id)

    def test_the_account_key_ignores_email_case(self):
        email, _ = self.sign_up_user()
        for i in range(5):
            r = self.sign_in(email.upper() if i % 2 else email, WRONG)
            self.assertEqual(r.status, 401, r.describe())
        self.assert_too_many(self.sign_in(email.upper()), window=900, limit_headers=False)
        self.assert_too_many(self.sign_in(email), window=900, limit_headers=False)

    def test_a_success_clears_the_failures(self):
        email, user_id = self.sign_up_user()
        for _ in range(2):
            for _ in range(4):
                self.assertEqual(self.sign_in(email, WRONG).status, 401)
            r = self.sign_in(email)
            self.assertEqual(r.status, 200, r.describe())
        self.assertEqual(self.sign_in(email, WRONG).status, 401)
        self.assertEqual(self.sign_in(email).status, 200)

    def test_failures_from_many_addresses_add_up(self):
        # The account rule is per account, whatever address the guesses come from: here they
        # even claim different addresses (ignored without trusted proxies anyway).
        email, _ = self.sign_up_user()
        for _ in range(5):
            r = self.sign_in(email, WRONG, headers={"X-Forwarded-For": next_address()})
            self.assertEqual(r.status, 401, r.describe())
        r = self.sign_in(email, headers={"X-Forwarded-For": next_address()})
        self.assert_too_many(r, window=900, limit_headers=False)


class SpoofedForwardedForTest(RateLimitedCase):
    def test_x_forwarded_for_does_not_reset_the_budget_without_trusted_proxies(self):
        email, _ = self.sign_up_user()
        for i in range(10):
            xff = next_address()
            c = self.client()
            r = self.sign_in(email, headers={"X-Forwarded-For": xff}, client=c)
            self.assertEqual(r.status, 200, f"attempt {i + 1}: {r.describe()}")
            self.assert_limit_headers(r, 10, 9 - i)
            if i == 0:
                # The header is not believed for the session's address either.
                s = c.get_session()
                self.assertEqual(s.json["session"]["ipAddress"], "127.0.0.1")
        r = self.sign_in(email, headers={"X-Forwarded-For": next_address()})
        self.assert_too_many(r, limit=10)
        r = self.sign_in(email, headers={"X-Forwarded-For": f"{next_address()}, 127.0.0.1"})
        self.assert_too_many(r, limit=10)


class TrustedProxyForwardedForTest(RateLimitedCase):
    server_args = ["--set", "trustedProxies=127.0.0.1"]

    def test_each_forwarded_client_gets_its_own_budget(self):
        email, _ = self.sign_up_user()
        # Twelve different clients behind the proxy: each starts with a full budget.
        for i in range(12):
            xff = next_address()
            c = self.client()
            r = self.sign_in(email, headers={"X-Forwarded-For": xff}, client=c)
            self.assertEqual(r.status, 200, f"client {i + 1}: {r.describe()}")
            self.assert_limit_headers(r, 10, 9)
            if i == 0:
                s = c.get_session()
                self.assertEqual(s.json["session"]["ipAddress"], xff)
        # One of them alone: 10 allowed, the 11th refused, the others untouched.
        busy, quiet = next_address(), next_address()
        for i in range(10):
            r = self.sign_in(email, headers={"X-Forwarded-For": busy})
            self.assertEqual(r.status, 200, r.describe())
            self.assert_limit_headers(r, 10, 9 - i)
        self.assert_too_many(self.sign_in(email, headers={"X-Forwarded-For": busy}), limit=10)
        r = self.sign_in(email, headers={"X-Forwarded-For": quiet})
        self.assertEqual(r.status, 200, r.describe())
        self.assert_limit_headers(r, 10, 9)
        # The proxy's own address (no X-Forwarded-For) is one more budget.
        r = self.sign_in(email)
        self.assertEqual(r.status, 200, r.describe())
        # The client cannot dodge by prepending addresses: the proxy appended the real one.
        r = self.sign_in(email, headers={"X-Forwarded-For": f"{next_address()}, {busy}"})
        self.assert_too_many(r, limit=10)


class DisabledTest(RateLimitedCase):
    server_env = {"SESSIOND_RATE_LIMIT_ENABLED": "false"}

    def test_thirty_sign_ins_without_429(self):
        email, _ = self.sign_up_user()
        # Ten failures (the per-account rule would stop the 6th) then twenty successes
        # (the per-IP rule would stop the 11th request).
        for i in range(30):
            password = WRONG if i < 10 else DEFAULT_PASSWORD
            r = self.sign_in(email, password)
            self.assertEqual(r.status, 401 if i < 10 else 200, f"attempt {i + 1}: {r.describe()}")
        for _ in range(15):
            self.assertEqual(self.client().sign_up().status, 200)


def run_sessiond(args, env=None):
    """Runs sessiond to completion (bounded); a configuration wrongly accepted would serve
    forever, and the timeout then fails the test."""
    with tempfile.TemporaryDirectory(prefix="sessiond-rl-") as tmp:
        argv = [binary_path(), "--port", "0", "--data-dir", tmp, *FAST_HASH_ARGS, *args]
        try:
            p = subprocess.run(argv, env=clean_env({"SESSIOND_SECRET": TEST_SECRET,
                                                    **FAST_HASH_ENV, **(env or {})}),
                               stdin=subprocess.DEVNULL, capture_output=True,
                               timeout=RUN_TIMEOUT_S)
        except subprocess.TimeoutExpired as e:
            raise AssertionError(f"sessiond {args} {env} did not exit within {RUN_TIMEOUT_S}s "
                                 f"(it probably accepted the rules and served)\n"
                                 f"stderr: {e.stderr!r}") from None
        return p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")


class InvalidRulesTest(unittest.TestCase):
    def assert_refused(self, rules=None, env=None):
        args = ["--set", f"rateLimit.rules={rules}"] if rules is not None else []
        code, out, err = run_sessiond(args, env)
        self.assertEqual(code, 2, f"rules={rules!r} env={env}\nstdout: {out}\nstderr: {err}")
        self.assertIn("rateLimit.rules", err, err)
        self.assertNotIn("sessiond listening", out)
        return err

    def test_garbage_rule(self):
        self.assert_refused("garbage")

    def test_garbage_rule_from_environment(self):
        self.assert_refused(env={"SESSIOND_RATE_LIMIT_RULES": "garbage"})

    def test_rules_out_of_range(self):
        for rule in ("/api/auth/sign-in/*=0/60s", "/api/auth/sign-in/*=10/0s",
                     "/api/auth/sign-in/*=10/25h", "/api/auth/sign-in/*=10/60",
                     "/api/auth/sign-in/*=10/60s:account", "account:sign-in=5/15m:ip",
                     "api/no-slash=1/1s", "/a*b=1/1s", "/api/auth/sign-in/*=10/60s,nonsense"):
            with self.subTest(rule=rule):
                err = self.assert_refused(rule)
                self.assertIn("rate limit rule", err)


if __name__ == "__main__":
    unittest.main()
