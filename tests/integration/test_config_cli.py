"""The command line: invalid configuration exits 2 naming the key, --help, migrate."""

import os
import subprocess
import tempfile
import unittest

from sessiond_harness import (FAST_HASH_ARGS, FAST_HASH_ENV, TEST_SECRET, Server, binary_path,
                              clean_env)

RUN_TIMEOUT_S = 10


def run(args, env=None, data_dir=None):
    """Runs sessiond to completion (bounded). A configuration that is wrongly accepted would
    make it serve forever; the timeout then fails the test."""
    with tempfile.TemporaryDirectory(prefix="sessiond-cli-") as tmp:
        argv = [binary_path(), *args]
        if data_dir is not False:
            argv += ["--data-dir", data_dir or tmp]
        try:
            p = subprocess.run(argv, env=clean_env({"SESSIOND_SECRET": TEST_SECRET, **(env or {})}),
                               stdin=subprocess.DEVNULL, capture_output=True,
                               timeout=RUN_TIMEOUT_S)
        except subprocess.TimeoutExpired as e:
            raise AssertionError(f"sessiond {args} did not exit within {RUN_TIMEOUT_S}s "
                                 f"(it probably accepted the configuration and served)\n"
                                 f"stderr: {e.stderr!r}") from None
        return p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")


class InvalidConfigTest(unittest.TestCase):
    def assert_usage_error(self, args, key, env=None):
        code, out, err = run(["--port", "0", *args], env=env)
        self.assertEqual(code, 2, f"args={args} env={env}\nstdout: {out}\nstderr: {err}")
        self.assertIn(key, err, f"stderr should name {key!r}: {err}")
        self.assertNotIn("sessiond listening", out)

    def test_port_not_a_number_from_environment(self):
        code, out, err = run([], env={"SESSIOND_PORT": "abc"})
        self.assertEqual(code, 2, err)
        self.assertIn("port", err)
        self.assertIn("SESSIOND_PORT", err)

    def test_port_out_of_range(self):
        self.assert_usage_error([], "port", env={"SESSIOND_PORT": "70000"})
        code, _, err = run(["--port", "-1"])
        self.assertEqual(code, 2, err)
        self.assertIn("port", err)

    def test_negative_expires_in(self):
        self.assert_usage_error(["--set", "session.expiresIn=-5"], "session.expiresIn")

    def test_expires_in_from_environment(self):
        self.assert_usage_error([], "session.expiresIn",
                                env={"SESSIOND_SESSION_EXPIRES_IN": "soon"})

    def test_bad_same_site(self):
        self.assert_usage_error(["--set", "cookie.sameSite=sideways"], "cookie.sameSite")

    def test_unknown_key(self):
        self.assert_usage_error(["--set", "session.bogusKey=1"], "session.bogusKey")
        self.assert_usage_error(["--set", "nonsense=1"], "nonsense")

    def test_set_without_equals(self):
        code, _, err = run(["--port", "0", "--set", "session.expiresIn"])
        self.assertEqual(code, 2, err)

    def test_update_age_above_expires_in(self):
        self.assert_usage_error(["--set", "session.expiresIn=60", "--set",
                                 "session.updateAge=120"], "session.updateAge")

    def test_short_secret(self):
        self.assert_usage_error([], "secret", env={"SESSIOND_SECRET": "too-short"})

    def test_argon2_below_floor_without_the_test_switch(self):
        self.assert_usage_error(FAST_HASH_ARGS, "password.argon2")

    def test_bad_trusted_origin(self):
        self.assert_usage_error(["--set", "trustedOrigins=not a url"], "trustedOrigins")

    def test_bad_log_level(self):
        self.assert_usage_error(["--set", "log.level=chatty"], "log.level")

    def test_unknown_flag(self):
        code, _, err = run(["--port", "0", "--no-such-flag"])
        self.assertEqual(code, 2, err)


class HelpAndMigrateTest(unittest.TestCase):
    def test_help(self):
        code, out, err = run(["--help"], data_dir=False)
        self.assertEqual(code, 0, err)
        text = out + err
        self.assertIn("serve", text)
        self.assertIn("migrate", text)
        self.assertIn("--set", text)

    def test_migrate_creates_the_database_and_is_idempotent(self):
        with tempfile.TemporaryDirectory(prefix="sessiond-migrate-") as d:
            data = os.path.join(d, "nested", "data")
            for attempt in (1, 2):
                with self.subTest(attempt=attempt):
                    code, out, err = run(["migrate"], data_dir=data)
                    self.assertEqual(code, 0, f"stdout: {out}\nstderr: {err}")
                    self.assertTrue(os.path.isfile(os.path.join(data, "sessiond.db")))
                    self.assertNotIn("sessiond listening", out)
            # A server starts on the migrated database and works.
            s = Server(data_dir=data)
            try:
                s.start()
                c = s.client()
                self.assertEqual(c.sign_up().status, 200)
                self.assertEqual(c.get_session().status, 200)
                self.assertIsInstance(c.get_session().json, dict)
            finally:
                code = s.stop()
                s.cleanup()
            self.assertEqual(code, 0)
            # And migrate again after the server ran.
            code, _, err = run(["migrate"], data_dir=data)
            self.assertEqual(code, 0, err)

    def test_migrate_flags_after_the_subcommand(self):
        with tempfile.TemporaryDirectory(prefix="sessiond-migrate-") as d:
            p = subprocess.run([binary_path(), "migrate", "--data-dir", d],
                               env=clean_env({"SESSIOND_SECRET": TEST_SECRET}),
                               capture_output=True, timeout=RUN_TIMEOUT_S)
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertTrue(os.path.isfile(os.path.join(d, "sessiond.db")))

    def test_explicit_serve_subcommand(self):
        s = Server(subcommand=["serve"])
        try:
            s.start()
            r = s.request("GET", "/healthz")
            self.assertEqual(r.status, 200)
        finally:
            code = s.stop()
            s.cleanup()
        self.assertEqual(code, 0)

    def test_environment_configures_the_server(self):
        # SESSIOND_SESSION_EXPIRES_IN / _UPDATE_AGE reach the server (cookie Max-Age follows).
        s = Server(env={"SESSIOND_SESSION_EXPIRES_IN": "7200",
                        "SESSIOND_SESSION_UPDATE_AGE": "60"})
        try:
            s.start()
            r = s.client().sign_up()
            self.assertEqual(r.status, 200, r.describe())
            self.assertEqual(r.set_cookie().max_age, 7200)
        finally:
            code = s.stop()
            s.cleanup()
        self.assertEqual(code, 0)

    def test_flag_beats_environment(self):
        s = Server(env={"SESSIOND_SESSION_EXPIRES_IN": "7200",
                        "SESSIOND_SESSION_UPDATE_AGE": "60"},
                   args=["--set", "session.expiresIn=3600"])
        try:
            s.start()
            r = s.client().sign_up()
            self.assertEqual(r.status, 200, r.describe())
            self.assertEqual(r.set_cookie().max_age, 3600)
        finally:
            code = s.stop()
            s.cleanup()
        self.assertEqual(code, 0)


if __name__ == "__main__":
    unittest.main()
