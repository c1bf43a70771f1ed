"""Access tokens over the wire: GET /api/auth/token, the JWKS (/api/auth/jwks and
/.well-known/jwks.json), the signing algorithms and their allowlist, the sealed key file, key
rotation (`sessiond keys rotate` and jwt.rotationInterval) picked up by a running server,
get-session's set-auth-jwt header, and the bearer transport the token route accepts.

JWTs are decoded here with the standard library (strict base64url + json) and their header and
claims are checked exactly. HS256/384/512 signatures are verified with hmac/hashlib against the
server secret; EdDSA/ES256/RS256 signatures are verified by a real JOSE library in
tests/interop (jose on Node), which CTest runs as the `interop` test.
"""

import base64
import hashlib
import hmac
import json
import os
import re
import stat
import subprocess
import tempfile
import time
import unittest

from sessiond_harness import (
    COOKIE_NAME, FAST_HASH_ENV, TEST_SECRET, Server, ServerTestCase, binary_path, clean_env,
    encode_uri_component, sign)

TOKEN = "/api/auth/token"
JWKS = "/api/auth/jwks"
WELL_KNOWN_JWKS = "/.well-known/jwks.json"
GET_SESSION = "/api/auth/get-session"
LIST_SESSIONS = "/api/auth/list-sessions"
SIGN_OUT = "/api/auth/sign-out"
REVOKE_SESSION = "/api/auth/revoke-session"
UPDATE_USER = "/api/auth/update-user"

UNAUTHORIZED = {"code": "UNAUTHORIZED", "message": "Unauthorized"}
DEFAULT_LIFETIME = 900
# The claims every access token carries (config jwt.fields adds name / image / emailVerified).
BASE_CLAIMS = {"iss", "aud", "sub", "sid", "jti", "iat", "exp", "email", "role"}
# RFC 7517 / 7518 private (or symmetric) key members: never in a JWKS, never in clear on disk.
PRIVATE_JWK_MEMBERS = {"d", "p", "q", "dp", "dq", "qi", "oth", "k"}
B64URL_RE = re.compile(r"^[A-Za-z0-9_-]+$")
ROTATED_RE = re.compile(r"new signing key (\S+)")
# 64 characters: long enough for HS512 (RFC 7518 §3.2 wants a key at least as long as the hash).
LONG_SECRET = "integration-test-long-secret-0123456789abcdefghijklmnopqrstuvwxy"
assert len(LONG_SECRET) == 64
OTHER_SECRET = "another-integration-secret-0123456789abcd"

RELOAD_TIMEOUT_S = 12.0   # The server checks the key file every 5 s; allow two rounds and slack.
RUN_TIMEOUT_S = 30.0      # `sessiond keys rotate` (RSA key generation included) and bad configs.
CLOCK_SLACK_S = 60


# ---------------------------------------------------------------------------------------------
# JWT helpers (standard library only).

def b64url_decode(segment: str) -> bytes:
    """Strict base64url without padding (RFC 7515 §2)."""
    if not B64URL_RE.match(segment):
        raise ValueError(f"not unpadded base64url: {segment[:40]!r}")
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def decode_jwt(token: str):
    """(header, claims, signing input, signature bytes) of a compact JWS."""
    parts = token.split(".")
    if len(parts) != 3:
        raise ValueError(f"a compact JWS has three segments, got {len(parts)}")
    header = json.loads(b64url_decode(parts[0]))
    claims = json.loads(b64url_decode(parts[1]))
    return header, claims, f"{parts[0]}.{parts[1]}".encode(), b64url_decode(parts[2])


def hmac_valid(token: str, secret: str, alg: str) -> bool:
    digest = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}[alg]
    _, _, signing_input, signature = decode_jwt(token)
    expected = hmac.new(secret.encode(), signing_input, digest).digest()
    return hmac.compare_digest(expected, signature)


def with_payload(token: str, claims: dict) -> str:
    """The token with its payload replaced and the original signature kept (a forgery)."""
    h, _, s = token.split(".")
    return f"{h}.{b64url_encode(json.dumps(claims, separators=(',', ':')).encode())}.{s}"


def find_private_members(value, path="$"):
    """Paths of JSON object members named like private JWK members, anywhere in `value`."""
    found = []
    if isinstance(value, dict):
        for k, v in value.items():
            if k in PRIVATE_JWK_MEMBERS:
                found.append(f"{path}.{k}")
            found.extend(find_private_members(v, f"{path}.{k}"))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            found.extend(find_private_members(v, f"{path}[{i}]"))
    return found


def run_sessiond(args, *, secret=TEST_SECRET, env=None, timeout=RUN_TIMEOUT_S):
    """Runs the binary to completion (bounded): (exit status, stdout, stderr)."""
    extra = {"SESSIOND_SECRET": secret, **FAST_HASH_ENV, **(env or {})}
    try:
        p = subprocess.run([binary_path(), *args], env=clean_env(extra),
                           stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired as e:
        raise AssertionError(f"sessiond {args} did not exit within {timeout}s (did it accept "
                             f"the configuration and serve?)\nstderr: {e.stderr!r}") from None
    return p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")


def rotate_keys(data_dir, *, secret=TEST_SECRET, args=()):
    return run_sessiond(["keys", "rotate", "--data-dir", data_dir, *args], secret=secret)


def key_file(data_dir) -> str:
    return os.path.join(data_dir, "jwt-keys.json")


# ---------------------------------------------------------------------------------------------
# Shared assertions.

class TokenAssertions:
    """Mixed into test cases that have self.server."""

    def bearer(self, credential):
        return {"Authorization": f"Bearer {credential}"}

    def get(self, path, headers=None):
        return self.server.request("GET", path, None, headers or {})

    def fetch_token(self, client=None, headers=None):
        """GET /api/auth/token (with the client's cookie, or `headers`), asserting 200 and the
        {token, expiresAt} shape; returns the JWT."""
        r = client.get(TOKEN, headers=headers) if client is not None else self.get(TOKEN, headers)
        self.assertEqual(r.status, 200, r.describe())
        self.assertEqual((r.headers.get("content-type") or "").split(";")[0], "application/json")
        self.assertEqual(r.headers.get("cache-control"), "no-store", r.describe())
        self.assertIsInstance(r.json, dict, r.describe())
        self.assertEqual(set(r.json), {"token", "expiresAt"}, r.json)
        self.assertIsInstance(r.json["token"], str)
        self.assertIsInstance(r.json["expiresAt"], int)
        _, claims, _, _ = decode_jwt(r.json["token"])
        self.assertEqual(r.json["expiresAt"], claims["exp"], "expiresAt must equal the JWT's exp")
        return r.json["token"]

    def assert_unauthorized(self, r):
        self.assertEqual(r.status, 401, r.describe())
        self.assertEqual(r.json, UNAUTHORIZED, r.describe())
        self.assertNotIn("token", r.json)

    def assert_access_token(self, token, *, user, session_id, alg, kid=None, lifetime=None,
                            issuer=None, audience=None, extra=None):
        """Header and claims, exactly. `user` is the user object of a sign-up/get-session
        body; `extra` the jwt.fields claims expected on top of the base ones."""
        header, claims, _, _ = decode_jwt(token)
        self.assertEqual(set(header), {"alg", "kid", "typ"}, header)
        self.assertEqual(header["alg"], alg, header)
        self.assertEqual(header["typ"], "JWT", header)
        self.assertIsInstance(header["kid"], str)
        self.assertTrue(header["kid"])
        if kid is not None:
            self.assertEqual(header["kid"], kid, header)
        extra = extra or {}
        self.assertEqual(set(claims), BASE_CLAIMS | set(extra), claims)
        self.assertEqual(claims["iss"], issuer or self.server.origin, claims)
        self.assertEqual(claims["aud"], audience or self.server.origin, claims)
        self.assertEqual(claims["sub"], user["id"], claims)
        self.assertEqual(claims["sid"], session_id, claims)
        self.assertEqual(claims["email"], user["email"], claims)
        self.assertEqual(claims["role"], "authenticated", claims)
        self.assertRegex(claims["jti"], r"^[A-Za-z0-9_-]{16,}$")
        for k in ("iat", "exp"):
            self.assertIsInstance(claims[k], int, f"{k} must be an integer NumericDate: {claims}")
            self.assertNotIsInstance(claims[k], bool)
        self.assertLess(abs(claims["iat"] - time.time()), CLOCK_SLACK_S, claims)
        self.assertEqual(claims["exp"] - claims["iat"], lifetime or DEFAULT_LIFETIME, claims)
        for k, v in extra.items():
            self.assertEqual(claims[k], v, f"claim {k}: {claims}")
        return header, claims

    def jwks(self, path=JWKS):
        r = self.get(path)
        self.assertEqual(r.status, 200, r.describe())
        self.assertEqual((r.headers.get("content-type") or "").split(";")[0], "application/json")
        self.assertEqual(r.headers.get("cache-control"), "public, max-age=300", r.describe())
        self.assertIsInstance(r.json, dict, r.describe())
        self.assertEqual(set(r.json), {"keys"}, r.json)
        self.assertIsInstance(r.json["keys"], list)
        self.assertEqual(find_private_members(r.json), [], "the JWKS must hold public parts only")
        for jwk in r.json["keys"]:
            self.assertEqual(jwk.get("use"), "sig", jwk)
            self.assertIsInstance(jwk.get("kid"), str, jwk)
            self.assertIn(jwk.get("alg"), ("EdDSA", "ES256", "RS256"), jwk)
        return r.json

    def kids(self):
        return [k["kid"] for k in self.jwks()["keys"]]

    def assert_public_jwk(self, jwk, alg):
        """The public key members for `alg`, nothing private, sizes as the RFCs fix them."""
        self.assertEqual(jwk["alg"], alg, jwk)
        self.assertEqual(jwk["use"], "sig", jwk)
        if alg == "EdDSA":
            self.assertEqual(set(jwk), {"kty", "crv", "x", "kid", "alg", "use"}, jwk)
            self.assertEqual((jwk["kty"], jwk["crv"]), ("OKP", "Ed25519"))
            self.assertEqual(len(b64url_decode(jwk["x"])), 32)
        elif alg == "ES256":
            self.assertEqual(set(jwk), {"kty", "crv", "x", "y", "kid", "alg", "use"}, jwk)
            self.assertEqual((jwk["kty"], jwk["crv"]), ("EC", "P-256"))
            self.assertEqual(len(b64url_decode(jwk["x"])), 32)
            self.assertEqual(len(b64url_decode(jwk["y"])), 32)
        elif alg == "RS256":
            self.assertEqual(set(jwk), {"kty", "n", "e", "kid", "alg", "use"}, jwk)
            self.assertEqual(jwk["kty"], "RSA")
            n = b64url_decode(jwk["n"])
            self.assertGreaterEqual(len(n) * 8, 2048, "RS256 needs a modulus of >= 2048 bits")
            self.assertNotEqual(n[0], 0, "no leading zero octet (RFC 7518 §6.3.1.1)")
            self.assertEqual(b64url_decode(jwk["e"]), b"\x01\x00\x01")
        else:
            self.fail(f"unexpected alg {alg}")

    def assert_signature_size(self, token, alg, jwk=None):
        _, _, _, signature = decode_jwt(token)
        if alg in ("EdDSA", "ES256"):
            # Ed25519: 64 bytes (RFC 8032). ES256: R || S, 64 bytes, never DER (RFC 7518 §3.4).
            self.assertEqual(len(signature), 64, alg)
        elif alg == "RS256":
            self.assertEqual(len(signature), len(b64url_decode(jwk["n"])))

    def assert_key_file_sealed(self, data_dir, *, set_aside=0):
        path = key_file(data_dir)
        st = os.stat(path)
        self.assertEqual(stat.S_IMODE(st.st_mode), 0o600, f"{path} mode {oct(st.st_mode)}")
        with open(path, encoding="utf-8") as f:
            text = f.read()
        doc = json.loads(text)
        self.assertEqual(find_private_members(doc), [],
                         "the key file must not hold a private JWK member in clear")
        self.assertNotIn("PRIVATE KEY", text)
        self.assertNotIn(TEST_SECRET, text)
        # No temporary file left beside it by the atomic replace; `set_aside` unreadable files
        # moved out of the way (keys sealed under another secret).
        others = [n for n in os.listdir(data_dir) if "jwt-keys" in n and n != "jwt-keys.json"]
        aside = [n for n in others if n.startswith("jwt-keys.json.unreadable-")]
        self.assertEqual(len(aside), set_aside, os.listdir(data_dir))
        self.assertEqual(sorted(set(others) - set(aside)), [], os.listdir(data_dir))
        return doc

    def wait_until(self, probe, *, timeout=RELOAD_TIMEOUT_S, what="condition"):
        """Polls `probe()` until it returns a truthy value (returned), in a bounded loop; the
        pause between polls is a wait on the server process, so a crash ends it at once."""
        deadline = time.monotonic() + timeout
        last = None
        while True:
            last = probe()
            if last:
                return last
            if time.monotonic() >= deadline:
                self.fail(f"{what} not reached within {timeout}s")
            proc = self.server.proc
            self.assertIsNotNone(proc, "server not running")
            try:
                proc.wait(timeout=0.1)
            except subprocess.TimeoutExpired:
                continue
            self.fail(f"sessiond exited ({proc.returncode}) while waiting for {what}\n"
                      f"{self.server.stderr[-2000:]}")


class TokenTestBase(TokenAssertions, ServerTestCase):
    pass


# ---------------------------------------------------------------------------------------------
# GET /api/auth/token with the default configuration (EdDSA, 15 minutes, no extra fields).

class TokenEndpointTest(TokenTestBase):
    def test_token_with_cookie_has_exact_header_and_claims(self):
        c, email, up = self.signed_up(name="Alice")
        s = c.get_session()
        self.assertEqual(s.status, 200, s.describe())
        token = self.fetch_token(c)
        header, claims = self.assert_access_token(token, user=up.json["user"],
                                                  session_id=s.json["session"]["id"],
                                                  alg="EdDSA")
        self.assertEqual(claims["email"], email.lower())
        # The kid names the (only) key of the JWKS.
        self.assertEqual([k["kid"] for k in self.jwks()["keys"]], [header["kid"]])

    def test_sid_is_the_session_and_sub_the_user(self):
        c1, email, up = self.signed_up()
        c2 = self.client()
        self.assertEqual(c2.sign_in(email).status, 200)
        sid1 = c1.get_session().json["session"]["id"]
        sid2 = c2.get_session().json["session"]["id"]
        self.assertNotEqual(sid1, sid2)
        _, a = self.assert_access_token(self.fetch_token(c1), user=up.json["user"],
                                        session_id=sid1, alg="EdDSA")
        _, b = self.assert_access_token(self.fetch_token(c2), user=up.json["user"],
                                        session_id=sid2, alg="EdDSA")
        self.assertEqual(a["sub"], b["sub"])
        # Another user: another sub.
        other, _, other_up = self.signed_up()
        _, o = decode_jwt(self.fetch_token(other))[:2]
        self.assertEqual(o["sub"], other_up.json["user"]["id"])
        self.assertNotEqual(o["sub"], a["sub"])

    def test_every_call_mints_a_new_token_with_a_unique_jti(self):
        c, _, _ = self.signed_up()
        tokens = [self.fetch_token(c) for _ in range(20)]
        self.assertEqual(len(set(tokens)), 20)
        jtis = {decode_jwt(t)[1]["jti"] for t in tokens}
        self.assertEqual(len(jtis), 20, "jti must be unique per token")

    def test_token_with_bearer_signed_raw_and_percent_encoded(self):
        _, _, up = self.signed_up()
        signed = up.headers.get("set-auth-token")
        raw = up.json["token"]
        self.assertEqual(signed, sign(raw))
        sid = self.get(GET_SESSION, self.bearer(signed)).json["session"]["id"]
        for credential in (signed, raw, encode_uri_component(signed)):
            with self.subTest(credential=credential[:12]):
                token = self.fetch_token(headers=self.bearer(credential))
                self.assert_access_token(token, user=up.json["user"], session_id=sid,
                                         alg="EdDSA")

    def test_no_session_is_401(self):
        _, _, up = self.signed_up()
        raw = up.json["token"]
        signed = up.headers.get("set-auth-token")
        forged = sign(raw, "not-the-server-secret-0123456789abcdefgh")
        cases = {
            "nothing": {},
            "empty bearer": {"Authorization": "Bearer "},
            "garbage bearer": self.bearer("garbage"),
            "forged bearer signature": self.bearer(forged),
            "bearer of an unknown raw token": self.bearer(raw[::-1]),
            "truncated signed bearer": self.bearer(signed[:-4]),
            "forged cookie signature":
                {"Cookie": f"{COOKIE_NAME}={encode_uri_component(forged)}"},
            "unknown cookie token":
                {"Cookie": f"{COOKIE_NAME}={encode_uri_component(sign(raw[::-1]))}"},
            "basic auth": {"Authorization": "Basic " + base64.b64encode(b"a:b").decode()},
        }
        for name, headers in cases.items():
            with self.subTest(case=name):
                r = self.get(TOKEN, headers)
                self.assert_unauthorized(r)
                self.assertIsNone(r.headers.get("set-auth-token"))

    def test_an_access_token_is_not_a_session_credential(self):
        c, _, _ = self.signed_up()
        jwt = self.fetch_token(c)
        # A leaked short-lived JWT must not buy a session nor a fresh JWT.
        self.assert_unauthorized(self.get(TOKEN, self.bearer(jwt)))
        r = self.get(GET_SESSION, self.bearer(jwt))
        self.assertEqual((r.status, r.body), (200, b"null"), r.describe())
        r = self.get(TOKEN, {"Cookie": f"{COOKIE_NAME}={jwt}"})
        self.assert_unauthorized(r)

    def test_after_sign_out_the_old_credential_gets_401(self):
        c, _, up = self.signed_up()
        cookie = c.cookie_header()
        signed = up.headers.get("set-auth-token")
        raw = up.json["token"]
        self.fetch_token(c)
        self.assertEqual(c.sign_out().status, 200)
        for name, headers in (("cookie", {"Cookie": cookie}),
                              ("signed bearer", self.bearer(signed)),
                              ("raw bearer", self.bearer(raw))):
            with self.subTest(credential=name):
                self.assert_unauthorized(self.get(TOKEN, headers))

    def test_revoked_session_gets_401_and_other_sessions_keep_working(self):
        c1, email, _ = self.signed_up()
        c2 = self.client()
        self.assertEqual(c2.sign_in(email).status, 200)
        handle = c2.get_session().json["session"]["token"]
        r = c1.post_json(REVOKE_SESSION, {"token": handle})
        self.assertEqual(r.status, 200, r.describe())
        self.assert_unauthorized(c2.get(TOKEN))
        self.fetch_token(c1)

    def test_jwks_on_both_paths_public_ed25519_only(self):
        c, _, _ = self.signed_up()
        token = self.fetch_token(c)
        a = self.jwks(JWKS)
        b = self.jwks(WELL_KNOWN_JWKS)
        self.assertEqual(a, b)
        self.assertEqual(len(a["keys"]), 1, a)
        self.assert_public_jwk(a["keys"][0], "EdDSA")
        self.assertEqual(a["keys"][0]["kid"], decode_jwt(token)[0]["kid"])
        self.assert_signature_size(token, "EdDSA")
        # Public: a cookie or bearer changes nothing.
        with_cookie = self.server.request("GET", JWKS, None, {"Cookie": c.cookie_header()})
        self.assertEqual(with_cookie.json, a)

    def test_no_set_auth_jwt_without_get_session_header(self):
        c, _, _ = self.signed_up()
        r = c.get_session()
        self.assertEqual(r.status, 200, r.describe())
        self.assertIsNone(r.headers.get("set-auth-jwt"), r.describe())
        self.assertNotIn("set-auth-jwt", (r.headers.get("access-control-expose-headers") or ""))

    def test_key_file_created_on_first_start_sealed_and_0600(self):
        doc = self.assert_key_file_sealed(self.server.data_dir)
        kid = self.kids()[0]
        self.assertIn(kid, json.dumps(doc), "the key file holds the served key")

    def test_token_route_is_get_only(self):
        c, _, _ = self.signed_up()
        r = c.request("POST", TOKEN, body=b"{}", content_type="application/json")
        self.assertEqual(r.status, 405, r.describe())


# ---------------------------------------------------------------------------------------------
# jwt.fields, jwt.issuer, jwt.audience, jwt.expiresIn.

class TokenClaimsConfigTest(TokenTestBase):
    ISSUER = "https://auth.example.test"
    AUDIENCE = "https://api.example.test"
    LIFETIME = 120
    server_args = ["--set", "jwt.fields=name, image ,emailVerified",
                   "--set", f"jwt.issuer={ISSUER}", "--set", f"jwt.audience={AUDIENCE}",
                   "--set", f"jwt.expiresIn={LIFETIME}"]

    def test_configured_claims(self):
        c, _, up = self.signed_up(name="Zoë", image="https://cdn.example.test/z.png")
        sid = c.get_session().json["session"]["id"]
        user = up.json["user"]
        self.assert_access_token(
            self.fetch_token(c), user=user, session_id=sid, alg="EdDSA", lifetime=self.LIFETIME,
            issuer=self.ISSUER, audience=self.AUDIENCE,
            extra={"name": "Zoë", "image": "https://cdn.example.test/z.png",
                   "emailVerified": False})

    def test_image_claim_is_null_when_the_user_has_none(self):
        c, _, up = self.signed_up(name="No Image")
        sid = c.get_session().json["session"]["id"]
        self.assert_access_token(
            self.fetch_token(c), user=up.json["user"], session_id=sid, alg="EdDSA",
            lifetime=self.LIFETIME, issuer=self.ISSUER, audience=self.AUDIENCE,
            extra={"name": "No Image", "image": None, "emailVerified": False})

    def test_fields_follow_update_user(self):
        c, _, up = self.signed_up(name="Before")
        r = c.post_json(UPDATE_USER, {"name": "After"})
        self.assertEqual(r.status, 200, r.describe())
        _, claims, _, _ = decode_jwt(self.fetch_token(c))
        self.assertEqual(claims["name"], "After")


# ---------------------------------------------------------------------------------------------
# The asymmetric algorithms: header alg, JWK shape, signature size, sealed key file.

class _AsymmetricAlgorithm(TokenAssertions):
    algorithm = ""

    def test_token_header_jwks_and_signature(self):
        c, _, up = self.signed_up()
        sid = c.get_session().json["session"]["id"]
        token = self.fetch_token(c)
        header, _ = self.assert_access_token(token, user=up.json["user"], session_id=sid,
                                             alg=self.algorithm)
        keys = self.jwks()["keys"]
        self.assertEqual(len(keys), 1, keys)
        self.assertEqual(keys[0]["kid"], header["kid"])
        self.assert_public_jwk(keys[0], self.algorithm)
        self.assertEqual(self.jwks(WELL_KNOWN_JWKS)["keys"], keys)
        self.assert_signature_size(token, self.algorithm, keys[0])

    def test_key_file_is_sealed(self):
        doc = self.assert_key_file_sealed(self.server.data_dir)
        self.assertEqual(doc.get("version"), 1, doc)
        self.assertEqual(len(doc["keys"]), 1, doc)
        self.assertEqual(doc["keys"][0].get("alg"), self.algorithm)


class DefaultAlgorithmIsEdDSATest(_AsymmetricAlgorithm, ServerTestCase):
    algorithm = "EdDSA"


class ES256Test(_AsymmetricAlgorithm, ServerTestCase):
    algorithm = "ES256"
    server_args = ["--set", "jwt.algorithm=ES256"]


class RS256Test(_AsymmetricAlgorithm, ServerTestCase):
    algorithm = "RS256"
    server_args = ["--set", "jwt.algorithm=RS256"]


# ---------------------------------------------------------------------------------------------
# HS256/384/512: the server secret is the shared key; nothing is published.

class _SharedSecretAlgorithm(TokenAssertions):
    algorithm = ""

    def test_token_verifies_with_the_server_secret(self):
        c, _, up = self.signed_up()
        sid = c.get_session().json["session"]["id"]
        token = self.fetch_token(c)
        self.assert_access_token(token, user=up.json["user"], session_id=sid,
                                 alg=self.algorithm)
        self.assertTrue(hmac_valid(token, self.server_secret, self.algorithm),
                        "signature is not HMAC(server secret) over header.payload")
        self.assertFalse(hmac_valid(token, OTHER_SECRET, self.algorithm))
        # A changed payload no longer verifies.
        _, claims, _, _ = decode_jwt(token)
        forged = with_payload(token, {**claims, "sub": "someone-else"})
        self.assertFalse(hmac_valid(forged, self.server_secret, self.algorithm))

    def test_jwks_is_empty(self):
        for path in (JWKS, WELL_KNOWN_JWKS):
            with self.subTest(path=path):
                self.assertEqual(self.jwks(path), {"keys": []})

    def test_keys_rotate_is_refused(self):
        code, out, err = rotate_keys(self.server.data_dir, secret=self.server_secret,
                                     args=["--set", f"jwt.algorithm={self.algorithm}"])
        self.assertEqual(code, 2, f"stdout: {out}\nstderr: {err}")
        self.assertIn("jwt.algorithm", err)
        self.assertNotIn("rotated", out)


class HS256Test(_SharedSecretAlgorithm, ServerTestCase):
    algorithm = "HS256"
    server_args = ["--set", "jwt.algorithm=HS256"]


class HS384Test(_SharedSecretAlgorithm, ServerTestCase):
    algorithm = "HS384"
    server_secret = LONG_SECRET
    server_args = ["--set", "jwt.algorithm=HS384"]


class HS512Test(_SharedSecretAlgorithm, ServerTestCase):
    algorithm = "HS512"
    server_secret = LONG_SECRET
    server_args = ["--set", "jwt.algorithm=HS512"]


# ---------------------------------------------------------------------------------------------
# Configuration errors: exit status 2 naming the key, before serving.

class TokenConfigErrorTest(unittest.TestCase):
    def assert_usage_error(self, args, key, *, secret=TEST_SECRET, env=None):
        with tempfile.TemporaryDirectory(prefix="sessiond-tok-") as tmp:
            code, out, err = run_sessiond(["--port", "0", "--data-dir", tmp, *args],
                                          secret=secret, env=env)
            self.assertEqual(code, 2, f"args={args} env={env}\nstdout: {out}\nstderr: {err}")
            self.assertIn(key, err, f"stderr should name {key!r}: {err}")
            self.assertNotIn("sessiond listening", out)
            self.assertFalse(os.path.exists(key_file(tmp)), "no key file for a bad config")

    def test_unknown_algorithms(self):
        for alg in ("none", "None", "NONE", "", "eddsa", "hs256", "HS256 ", "RS512", "PS256",
                    "ES384", "HS1"):
            with self.subTest(alg=alg):
                self.assert_usage_error(["--set", f"jwt.algorithm={alg}"], "jwt.algorithm")

    def test_unknown_algorithm_from_environment(self):
        self.assert_usage_error([], "jwt.algorithm", env={"SESSIOND_JWT_ALGORITHM": "none"})

    def test_keys_rotate_with_unknown_algorithm(self):
        with tempfile.TemporaryDirectory(prefix="sessiond-tok-") as tmp:
            code, out, err = rotate_keys(tmp, args=["--set", "jwt.algorithm=none"])
            self.assertEqual(code, 2, err)
            self.assertIn("jwt.algorithm", err)

    def test_expires_in_bounds(self):
        for value in ("0", "-1", "86401", "soon"):
            with self.subTest(value=value):
                self.assert_usage_error(["--set", f"jwt.expiresIn={value}"], "jwt.expiresIn")

    def test_fields_outside_the_allowlist(self):
        # Registered claims and anything secret can never be copied into a token.
        for value in ("sub", "email", "role", "exp", "password", "name,iss"):
            with self.subTest(value=value):
                self.assert_usage_error(["--set", f"jwt.fields={value}"], "jwt.fields")

    def test_negative_rotation_interval(self):
        self.assert_usage_error(["--set", "jwt.rotationInterval=-1"], "jwt.rotationInterval")

    def test_hmac_secret_shorter_than_the_hash_is_a_usage_error(self):
        # RFC 7518 §3.2: an HS384 key needs >= 48 bytes, HS512 >= 64. The 40-character
        # TEST_SECRET is a valid server secret (>= 32) but too short for them: that is a
        # configuration error, so it should exit 2 naming jwt.algorithm before serving.
        for alg, secret in (("HS384", TEST_SECRET), ("HS512", TEST_SECRET),
                            ("HS512", LONG_SECRET[:48])):
            with self.subTest(alg=alg, secret_length=len(secret)):
                self.assert_usage_error(["--set", f"jwt.algorithm={alg}"], "jwt.algorithm",
                                        secret=secret)


# ---------------------------------------------------------------------------------------------
# Key persistence across restarts.

class KeyPersistenceTest(TokenAssertions, unittest.TestCase):
    server: Server

    def setUp(self):
        self._tmp = tempfile.TemporaryDirectory(prefix="sessiond-keys-")
        self.data_dir = self._tmp.name
        self.server = None

    def tearDown(self):
        if self.server is not None:
            self.server.cleanup()
        self._tmp.cleanup()

    def start(self, args=(), secret=TEST_SECRET):
        if self.server is not None:  # A failed subtest may have left one running.
            self.server.cleanup()
        self.server = Server(args=list(args), secret=secret, data_dir=self.data_dir).start()
        return self.server

    def stop(self):
        code = self.server.stop()
        self.assertEqual(code, 0, self.server.stderr[-2000:])
        self.server.cleanup()
        self.server = None

    def moved(self, client):
        """The same device talking to the current (restarted) server: same cookie jar."""
        c = self.server.client()
        c.jar = dict(client.jar)
        return c

    def signed_up(self):
        c = self.server.client()
        r = c.sign_up()
        self.assertEqual(r.status, 200, r.describe())
        return c, r

    def test_same_keys_after_restart(self):
        for alg in ("EdDSA", "RS256"):
            with self.subTest(alg=alg):
                if os.path.exists(key_file(self.data_dir)):
                    os.unlink(key_file(self.data_dir))
                self.start(["--set", f"jwt.algorithm={alg}"])
                c, _ = self.signed_up()
                old_token = self.fetch_token(c)
                before = self.jwks()
                with open(key_file(self.data_dir), "rb") as f:
                    file_before = f.read()
                self.stop()
                self.start(["--set", f"jwt.algorithm={alg}"])
                after = self.jwks()
                self.assertEqual(after, before, "same kid and public key after a restart")
                self.assertEqual(decode_jwt(old_token)[0]["kid"], after["keys"][0]["kid"])
                with open(key_file(self.data_dir), "rb") as f:
                    self.assertEqual(f.read(), file_before, "a restart does not rewrite keys")
                # The session survives too, and new tokens use the same key.
                self.assertEqual(decode_jwt(self.fetch_token(self.moved(c)))[0]["kid"],
                                 after["keys"][0]["kid"])
                self.stop()

    def test_restart_with_another_secret_sets_the_file_aside_and_starts_fresh_keys(self):
        self.start()
        old_kid = self.kids()[0]
        with open(key_file(self.data_dir), "rb") as f:
            file_before = f.read()
        self.stop()
        # Keys sealed under another secret cannot be used: the server keeps the file for
        # inspection (jwt-keys.json.unreadable-<ms>) and starts with a fresh key set.
        self.start(secret=OTHER_SECRET)
        kids = self.kids()
        self.assertEqual(len(kids), 1, kids)
        self.assertNotEqual(kids[0], old_kid)
        self.assertIn("jwt", self.server.stderr.lower())
        aside = [n for n in os.listdir(self.data_dir) if n.startswith("jwt-keys.json.unreadable-")]
        self.assertEqual(len(aside), 1, os.listdir(self.data_dir))
        with open(os.path.join(self.data_dir, aside[0]), "rb") as f:
            self.assertEqual(f.read(), file_before, "the old key file is kept byte for byte")
        self.assert_key_file_sealed(self.data_dir, set_aside=1)
        self.stop()

    def test_changing_the_algorithm_rotates_and_keeps_the_old_key(self):
        self.start()
        c, _ = self.signed_up()
        old_token = self.fetch_token(c)
        old_kid = decode_jwt(old_token)[0]["kid"]
        self.stop()
        self.start(["--set", "jwt.algorithm=ES256"])
        keys = self.jwks()["keys"]
        self.assertEqual([k["alg"] for k in keys], ["ES256", "EdDSA"], keys)
        self.assertEqual(keys[1]["kid"], old_kid)
        header, _, _, _ = decode_jwt(self.fetch_token(self.moved(c)))
        self.assertEqual((header["alg"], header["kid"]), ("ES256", keys[0]["kid"]))
        self.assert_key_file_sealed(self.data_dir)
        self.stop()


# ---------------------------------------------------------------------------------------------
# `sessiond keys rotate` against a running server.

class KeyRotationTest(TokenTestBase):
    server_args = ["--set", "jwt.getSessionHeader=true"]

    def test_rotate_then_reload_serves_both_keys_and_signs_with_the_new_one(self):
        c, _, up = self.signed_up()
        sid = c.get_session().json["session"]["id"]
        old_token = self.fetch_token(c)
        old_kid = decode_jwt(old_token)[0]["kid"]
        old_jwk = self.jwks()["keys"][0]
        self.assertEqual(old_jwk["kid"], old_kid)
        cached = c.get_session().headers.get("set-auth-jwt")
        self.assertEqual(decode_jwt(cached)[0]["kid"], old_kid)

        code, out, err = rotate_keys(self.server.data_dir)
        self.assertEqual(code, 0, f"stdout: {out}\nstderr: {err}")
        m = ROTATED_RE.search(out)
        self.assertIsNotNone(m, f"the new kid should be printed: {out!r}")
        new_kid = m.group(1)
        self.assertNotEqual(new_kid, old_kid)
        self.assert_key_file_sealed(self.server.data_dir)

        kids = self.wait_until(lambda: k if len(k := self.kids()) > 1 else None,
                               what="the JWKS listing the rotated-in key")
        self.assertEqual(kids, [new_kid, old_kid], "both keys, the new one first")
        keys = self.jwks()["keys"]
        self.assertEqual(keys[1], old_jwk, "the retired key is served unchanged")
        self.assert_public_jwk(keys[0], "EdDSA")
        self.assertEqual(self.jwks(WELL_KNOWN_JWKS)["keys"], keys)

        # New tokens (the token route and get-session's cached one) carry the new kid.
        self.assert_access_token(self.fetch_token(c), user=up.json["user"], session_id=sid,
                                 alg="EdDSA", kid=new_kid)
        fresh = c.get_session().headers.get("set-auth-jwt")
        self.assertIsNotNone(fresh)
        self.assertEqual(decode_jwt(fresh)[0]["kid"], new_kid,
                         "the get-session JWT cache must not outlive a key rotation")
        # The old token's key is still there to verify it (tests/interop checks the signature).
        self.assertIn(decode_jwt(old_token)[0]["kid"], self.kids())

        # A second rotation: newest first, both retired keys kept (their tokens are unexpired).
        code, out, err = rotate_keys(self.server.data_dir)
        self.assertEqual(code, 0, err)
        third_kid = ROTATED_RE.search(out).group(1)
        kids = self.wait_until(lambda: k if (k := self.kids())[0] == third_kid else None,
                               what="the second rotation")
        self.assertEqual(kids, [third_kid, new_kid, old_kid])

    def test_rotate_with_the_wrong_secret_fails_and_changes_nothing(self):
        # A mistyped secret on the maintenance command must not touch the running server's
        # keys: exit non-zero, file untouched, nothing set aside.
        with open(key_file(self.server.data_dir), "rb") as f:
            before = f.read()
        jwks_before = self.jwks()
        code, out, err = rotate_keys(self.server.data_dir, secret=OTHER_SECRET)
        self.assertNotEqual(code, 0, f"stdout: {out}\nstderr: {err}")
        self.assertNotIn("rotated", out)
        with open(key_file(self.server.data_dir), "rb") as f:
            self.assertEqual(f.read(), before, "keys rotate replaced the key file")
        self.assertEqual([n for n in os.listdir(self.server.data_dir) if ".unreadable-" in n], [],
                         "keys rotate moved the key file aside")
        self.assertEqual(self.jwks(), jwks_before)


class RotationIntervalTest(TokenTestBase):
    server_args = ["--set", "jwt.rotationInterval=1"]

    def test_keys_rotate_on_their_own(self):
        first = self.kids()
        self.assertEqual(len(first), 1)
        kids = self.wait_until(lambda: k if len(k := self.kids()) > 1 else None,
                               timeout=15, what="an automatic rotation")
        self.assertEqual(kids[-1], first[0], "the first key is kept, retired, at the end")
        c, _, _ = self.signed_up()
        kid = decode_jwt(self.fetch_token(c))[0]["kid"]
        # Signed by the key active then (it may have rotated again since): not the first one.
        self.assertIn(kid, self.kids())
        self.assertNotEqual(kid, first[0])
        self.assert_key_file_sealed(self.server.data_dir)


# ---------------------------------------------------------------------------------------------
# get-session's set-auth-jwt (jwt.getSessionHeader=true).

class GetSessionJwtTest(TokenTestBase):
    server_args = ["--set", "jwt.getSessionHeader=true", "--set", "jwt.fields=name"]

    def session_jwt(self, r):
        self.assertEqual(r.status, 200, r.describe())
        jwt = r.headers.get("set-auth-jwt")
        self.assertIsNotNone(jwt, r.describe())
        exposed = [h.strip().lower() for v in r.headers.get_all("access-control-expose-headers")
                   for h in v.split(",")]
        self.assertIn("set-auth-jwt", exposed, r.describe())
        return jwt

    def test_get_session_carries_a_jwt_for_the_session(self):
        c, _, up = self.signed_up(name="Carol")
        r = c.get_session()
        jwt = self.session_jwt(r)
        self.assert_access_token(jwt, user=up.json["user"], session_id=r.json["session"]["id"],
                                 alg="EdDSA", extra={"name": "Carol"})
        self.assertEqual(decode_jwt(jwt)[0]["kid"], self.kids()[0])

    def test_repeated_get_session_returns_the_same_cached_jwt(self):
        c, _, up = self.signed_up()
        first = self.session_jwt(c.get_session())
        second = self.session_jwt(c.get_session())
        self.assertEqual(first, second)
        # Per session, whatever carries the credential.
        via_bearer = self.session_jwt(
            self.get(GET_SESSION, self.bearer(up.headers.get("set-auth-token"))))
        self.assertEqual(via_bearer, first)
        # The token route always mints a fresh one.
        self.assertNotEqual(self.fetch_token(c), first)

    def test_each_session_has_its_own_jwt(self):
        c1, email, _ = self.signed_up()
        c2 = self.client()
        self.assertEqual(c2.sign_in(email).status, 200)
        a = self.session_jwt(c1.get_session())
        b = self.session_jwt(c2.get_session())
        self.assertNotEqual(a, b)
        self.assertNotEqual(decode_jwt(a)[1]["sid"], decode_jwt(b)[1]["sid"])

    def test_no_jwt_without_a_session(self):
        c, _, _ = self.signed_up()
        self.assertEqual(c.sign_out().status, 200)
        for r in (self.get(GET_SESSION), c.get_session(),
                  self.get(GET_SESSION, self.bearer("garbage"))):
            self.assertEqual(r.body, b"null", r.describe())
            self.assertIsNone(r.headers.get("set-auth-jwt"), r.describe())

    def test_jwt_follows_update_user(self):
        # The JWT in a response must describe the same user as the body next to it.
        c, _, _ = self.signed_up(name="Before")
        self.session_jwt(c.get_session())  # Caches a JWT with name "Before".
        r = c.post_json(UPDATE_USER, {"name": "After"})
        self.assertEqual(r.status, 200, r.describe())
        s = c.get_session()
        self.assertEqual(s.json["user"]["name"], "After")
        _, claims, _, _ = decode_jwt(self.session_jwt(s))
        self.assertEqual(claims["name"], s.json["user"]["name"],
                         "set-auth-jwt carries stale user fields after update-user")


class GetSessionJwtRefreshTest(TokenTestBase):
    LIFETIME = 4
    server_args = ["--set", "jwt.getSessionHeader=true", "--set", f"jwt.expiresIn={LIFETIME}"]

    def test_cached_jwt_is_replaced_before_it_expires(self):
        c, _, _ = self.signed_up()
        first = c.get_session().headers.get("set-auth-jwt")
        self.assertIsNotNone(first)
        seen = []

        def probe():
            jwt = c.get_session().headers.get("set-auth-jwt")
            exp = decode_jwt(jwt)[1]["exp"]
            seen.append((jwt, exp - time.time()))
            return jwt if jwt != first else None

        second = self.wait_until(probe, timeout=self.LIFETIME + 4, what="a refreshed JWT")
        self.assertGreater(decode_jwt(second)[1]["iat"], decode_jwt(first)[1]["iat"])
        # Never served with less than a quarter of its lifetime left (minus clock rounding).
        for jwt, left in seen:
            self.assertGreater(left, 0, "get-session served an expired JWT")


# ---------------------------------------------------------------------------------------------
# The bearer transport the token route shares with the session routes.

class BearerTransportTest(TokenTestBase):
    def test_sign_up_and_sign_in_send_the_signed_bearer_token(self):
        _, email, up = self.signed_up()
        r = self.client().sign_in(email)
        for resp in (up, r):
            signed = resp.headers.get("set-auth-token")
            self.assertEqual(signed, sign(resp.json["token"]))
            exposed = ",".join(resp.headers.get_all("access-control-expose-headers")).lower()
            self.assertIn("set-auth-token", exposed)

    def test_bearer_works_everywhere_without_cookies_or_origin(self):
        _, _, up = self.signed_up()
        auth = self.bearer(up.headers.get("set-auth-token"))
        s = self.get(GET_SESSION, auth)
        self.assert_session_of(s, up.json["user"]["id"])
        listed = self.get(LIST_SESSIONS, auth)
        self.assertEqual(listed.status, 200, listed.describe())
        self.assertIsInstance(listed.json, list)
        self.assertIn(s.json["session"]["id"], [x["id"] for x in listed.json])
        self.assert_access_token(self.fetch_token(headers=auth), user=up.json["user"],
                                 session_id=s.json["session"]["id"], alg="EdDSA")
        out = self.server.request("POST", SIGN_OUT, b"", auth)  # No cookie, no Origin.
        self.assertEqual(out.status, 200, out.describe())
        self.assertEqual(out.json, {"success": True})
        self.assert_unauthorized(self.get(TOKEN, auth))
        self.assertEqual(self.get(GET_SESSION, auth).body, b"null")
        self.assert_unauthorized(self.get(LIST_SESSIONS, auth))

    def test_forged_bearer_signature(self):
        _, _, up = self.signed_up()
        signed = up.headers.get("set-auth-token")
        token, _, mac = signed.partition(".")
        flipped = ("A" if mac[0] != "A" else "B") + mac[1:]
        for forged in (f"{token}.{flipped}", sign(token, OTHER_SECRET)):
            with self.subTest(forged=forged[-10:]):
                auth = self.bearer(forged)
                r = self.get(GET_SESSION, auth)
                self.assertEqual((r.status, r.body), (200, b"null"), r.describe())
                self.assertIsNone(r.headers.get("set-auth-jwt"))
                self.assert_unauthorized(self.get(TOKEN, auth))
                self.assert_unauthorized(self.get(LIST_SESSIONS, auth))
        # The genuine value still works: nothing was revoked by the forgeries.
        self.fetch_token(headers=self.bearer(signed))


if __name__ == "__main__":
    unittest.main()
