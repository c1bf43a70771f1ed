"""The User-Agent recorded with a session: get-session's (and list-sessions') userAgent is the
header as sent (cut to session.maxUserAgentLength, 512 bytes) and userAgentParsed is its
uap-core parse in Agnost's shape, made once at sign-in."""

import json
import unittest

from sessiond_harness import ServerTestCase, unique_email

CHROME_120_WINDOWS_10 = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
                         "(KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36")
FIREFOX_121_LINUX = "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0"
SAFARI_IPHONE_IOS_17_2 = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) "
                          "AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Mobile/15E148 "
                          "Safari/604.1")
EDGE_120_WINDOWS = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
                    "(KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Edg/120.0.2210.91")
CURL = "curl/8.4.0"

OTHER_DEVICE = {"family": "Other", "brand": "", "model": ""}
UNKNOWN = {"family": "Other", "major": "", "minor": "", "patch": "", "device": OTHER_DEVICE,
           "os": {"family": "Other", "major": "", "minor": "", "patch": ""}}

# user agent → the parts of userAgentParsed that must hold.
CASES = {
    "chrome-120-windows-10": (CHROME_120_WINDOWS_10, {
        "family": "Chrome", "major": "120", "os.family": "Windows", "os.major": "10",
        "device": OTHER_DEVICE}),
    "firefox-121-linux": (FIREFOX_121_LINUX, {
        "family": "Firefox", "major": "121", "minor": "0", "os.family": "Linux",
        "device": OTHER_DEVICE}),
    "safari-iphone-ios-17.2": (SAFARI_IPHONE_IOS_17_2, {
        "family": "Mobile Safari", "major": "17", "minor": "2", "os.family": "iOS",
        "os.major": "17", "os.minor": "2",
        "device": {"family": "iPhone", "brand": "Apple", "model": "iPhone"}}),
    "edge-120-windows": (EDGE_120_WINDOWS, {
        "family": "Edge", "major": "120", "os.family": "Windows", "os.major": "10",
        "device": OTHER_DEVICE}),
    "curl-8.4.0": (CURL, {
        "family": "curl", "major": "8", "minor": "4", "patch": "0", "os.family": "Other",
        "device": OTHER_DEVICE}),
}


class UserAgentTest(ServerTestCase):
    # A 10 KB User-Agent header needs more than the default 8 KiB of request headers.
    server_args = ["--set", "limits.maxHeaderBytes=32768"]

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        setup = cls.server.client()
        cls.email = unique_email("ua")
        r = setup.sign_up(email=cls.email)
        assert r.status == 200, r.describe()
        cls.user_id = r.json["user"]["id"]

    def session_with(self, user_agent):
        """Signs in with `user_agent` and returns (client, get-session's session object)."""
        c = self.client(user_agent=user_agent)
        r = c.sign_in(self.email)
        self.assertEqual(r.status, 200, r.describe())
        g = c.get_session()
        self.assert_session_of(g, self.user_id)
        return c, g.json["session"]

    def assert_parsed_shape(self, parsed):
        self.assertIsInstance(parsed, dict)
        self.assertEqual(set(parsed), {"family", "major", "minor", "patch", "device", "os"})
        self.assertEqual(set(parsed["device"]), {"family", "brand", "model"})
        self.assertEqual(set(parsed["os"]), {"family", "major", "minor", "patch"})
        for k in ("family", "major", "minor", "patch"):
            self.assertIsInstance(parsed[k], str)
            self.assertIsInstance(parsed["os"][k], str)
        for k in ("family", "brand", "model"):
            self.assertIsInstance(parsed["device"][k], str)

    def assert_listed_identically(self, client, session):
        r = client.get("/api/auth/list-sessions")
        self.assertEqual(r.status, 200, r.describe())
        mine = [s for s in r.json if s["id"] == session["id"]]
        self.assertEqual(len(mine), 1)
        self.assertIs(mine[0]["current"], True)
        self.assertEqual(mine[0]["userAgent"], session["userAgent"])
        self.assertEqual(mine[0]["userAgentParsed"], session["userAgentParsed"])

    def test_real_browsers(self):
        for label, (ua, expected) in CASES.items():
            with self.subTest(ua=label):
                c, session = self.session_with(ua)
                self.assertEqual(session["userAgent"], ua)
                parsed = session["userAgentParsed"]
                self.assert_parsed_shape(parsed)
                for key, want in expected.items():
                    got = parsed
                    for part in key.split("."):
                        got = got[part]
                    self.assertEqual(got, want, f"{key} of {ua!r}: {json.dumps(parsed)}")
                self.assert_listed_identically(c, session)
        self.assert_healthy()

    def test_empty_user_agent(self):
        c, session = self.session_with("")
        self.assertEqual(session["userAgent"], "")
        self.assertEqual(session["userAgentParsed"], UNKNOWN)
        self.assert_listed_identically(c, session)

    def test_no_user_agent_header(self):
        r = self.server.request("POST", "/api/auth/sign-in/email",
                                json.dumps({"email": self.email,
                                            "password": "correct-horse-battery"}).encode(),
                                {"Content-Type": "application/json"})
        self.assertEqual(r.status, 200, r.describe())
        g = self.server.request("GET", "/api/auth/get-session",
                                headers={"Authorization": f"Bearer {r.json['token']}"})
        self.assert_session_of(g, self.user_id)
        self.assertEqual(g.json["session"]["userAgent"], "")
        self.assertEqual(g.json["session"]["userAgentParsed"], UNKNOWN)

    def test_ten_kilobyte_user_agent_is_cut_to_512_bytes(self):
        ua = (CHROME_120_WINDOWS_10 + " ") * 200
        ua = ua[:10240]
        self.assertEqual(len(ua), 10240)
        c, session = self.session_with(ua)
        self.assertEqual(session["userAgent"], ua[:512])
        self.assertEqual(len(session["userAgent"].encode()), 512)
        # The parse is of what was kept (it still starts with a Chrome 120 string).
        self.assertEqual(session["userAgentParsed"]["family"], "Chrome")
        self.assertEqual(session["userAgentParsed"]["major"], "120")
        self.assert_listed_identically(c, session)
        self.assert_healthy()

    def test_ten_kilobytes_of_filler(self):
        ua = "A" * 10240
        c, session = self.session_with(ua)
        self.assertEqual(session["userAgent"], "A" * 512)
        self.assertEqual(session["userAgentParsed"], UNKNOWN)
        self.assert_healthy()

    def test_multibyte_user_agent_is_cut_on_a_character_boundary(self):
        # 1 ASCII byte then 2-byte characters: byte 512 falls inside a character, so the
        # stored value is 511 bytes of valid UTF-8, a prefix of what was sent.
        ua = "x" + "é" * 5000
        raw = ua.encode("utf-8")
        r = self.server.request("POST", "/api/auth/sign-in/email",
                                json.dumps({"email": self.email,
                                            "password": "correct-horse-battery"}).encode(),
                                [("Content-Type", "application/json"), ("User-Agent", raw)])
        self.assertEqual(r.status, 200, r.describe())
        g = self.server.request("GET", "/api/auth/get-session",
                                headers={"Authorization": f"Bearer {r.json['token']}"})
        self.assert_session_of(g, self.user_id)
        stored = g.json["session"]["userAgent"]
        self.assertLessEqual(len(stored.encode()), 512)
        self.assertEqual(stored, ua[:256])
        self.assert_parsed_shape(g.json["session"]["userAgentParsed"])
        self.assert_healthy()

    def test_same_agent_twice_parses_the_same(self):
        # The parser caches results; a repeat must give the identical answer.
        _, first = self.session_with(SAFARI_IPHONE_IOS_17_2)
        _, second = self.session_with(SAFARI_IPHONE_IOS_17_2)
        self.assertNotEqual(first["id"], second["id"])
        self.assertEqual(first["userAgentParsed"], second["userAgentParsed"])

    def test_server_stays_healthy_after_many_agents(self):
        for i in range(20):
            ua = f"Mozilla/5.0 (compatible; Bot{i}/1.{i}; +http://example.com/bot)" + "(" * i
            _, session = self.session_with(ua)
            self.assertEqual(session["userAgent"], ua)
            self.assert_parsed_shape(session["userAgentParsed"])
        self.assert_healthy()
        self.assertEqual(self.server.request("GET", "/readyz").status, 200)


class DefaultHeaderLimitTest(ServerTestCase):
    """With the default limits.maxHeaderBytes (8 KiB) a 10 KB User-Agent is refused before any
    route runs, and the server carries on."""

    def test_ten_kilobyte_user_agent_is_431(self):
        c, email, _ = self.signed_up()
        big = self.client(user_agent="A" * 10240)
        r = big.sign_in(email)
        self.assert_error(r, 431, "REQUEST_HEADER_FIELDS_TOO_LARGE")
        self.assertEqual(r.set_cookies, [])
        self.assert_healthy()
        self.assertEqual(self.client().sign_in(email).status, 200)
        self.assertEqual(c.get_session().status, 200)


if __name__ == "__main__":
    unittest.main()
