"""sessiond on PostgreSQL: the real binary with --database-url postgres://... against a throwaway
PostgreSQL 15 that scripts/with-postgres.sh starts for this module (its own temp dir, 127.0.0.1
on a free port) and deletes afterwards.

* `sessiond migrate` creates the schema (versions 1..3 recorded once, idempotent), and a server
  on it signs up, reads the session and signs out; the URL's password never reaches the logs.
* Outage: with PostgreSQL stopped, get-session and sign-in answer 503 SERVICE_UNAVAILABLE
  quickly (no hang, no crash), a session revoked before the outage is not answered as valid,
  and once PostgreSQL is back the same process serves again, without a restart.

If PostgreSQL cannot be started, these tests fail: they never skip.
"""

from __future__ import annotations

import socket
import subprocess
import tempfile
import time
import unittest
import uuid
from pathlib import Path

from sessiond_harness import (COOKIE_NAME, TEST_SECRET, Server, binary_path, clean_env,
                              unique_email)

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "with-postgres.sh"
PSQL = "/usr/lib/postgresql/15/bin/psql"
SCRIPT_TIMEOUT_S = 120
RUN_TIMEOUT_S = 30
# The bound on an answer during the outage. Connection refused fails at once; this is generous so
# a loaded CI machine does not flake, and the measured times are printed.
OUTAGE_ANSWER_BOUND_S = 10.0


class ThrowawayPostgres:
    """A PostgreSQL server in its own temp dir, driven through scripts/with-postgres.sh."""

    def __init__(self) -> None:
        self.dir = tempfile.mkdtemp(prefix="sessiond-it-pg-")
        self.url = ""

    def _script(self, verb: str) -> str:
        p = subprocess.run(["bash", str(SCRIPT), verb, self.dir], stdin=subprocess.DEVNULL,
                           capture_output=True, timeout=SCRIPT_TIMEOUT_S)
        if p.returncode != 0:
            raise RuntimeError(f"with-postgres.sh {verb} failed ({p.returncode}):\n"
                               f"{p.stdout.decode(errors='replace')}"
                               f"{p.stderr.decode(errors='replace')}")
        return p.stdout.decode().strip()

    def start(self) -> None:
        url = self._script("start").splitlines()[-1]
        if self.url and url != self.url:
            raise RuntimeError(f"restart moved the server: {self.url} -> {url}")
        self.url = url

    def stop(self) -> None:
        self._script("stop")

    def destroy(self) -> None:
        self._script("destroy")

    def psql(self, sql: str) -> str:
        p = subprocess.run([PSQL, self.url, "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-c", sql],
                           stdin=subprocess.DEVNULL, capture_output=True, timeout=RUN_TIMEOUT_S)
        if p.returncode != 0:
            raise AssertionError(f"psql {sql!r}: {p.stderr.decode(errors='replace')}")
        return p.stdout.decode().strip()

    def fresh_schema_url(self, password: str | None = None) -> tuple[str, str]:
        """A new empty schema and a URL whose search_path is it (optionally with a password,
        which the test server's trust authentication ignores)."""
        schema = "it_" + uuid.uuid4().hex[:12]
        self.psql(f"CREATE SCHEMA {schema}")
        url = self.url
        if password is not None:
            url = url.replace("postgresql://postgres@", f"postgresql://postgres:{password}@", 1)
        return schema, f"{url}?options=-csearch_path%3D{schema}"


def started_postgres() -> ThrowawayPostgres:
    """A started throwaway server; nothing is left behind if it fails to start."""
    pg = ThrowawayPostgres()
    try:
        pg.start()
    except Exception:
        pg.destroy()
        raise
    return pg


PG: ThrowawayPostgres | None = None


def setUpModule() -> None:
    global PG
    PG = started_postgres()


def tearDownModule() -> None:
    if PG is not None:
        PG.destroy()


def run_sessiond(args: list[str]) -> tuple[int, str, str]:
    with tempfile.TemporaryDirectory(prefix="sessiond-it-pg-cli-") as data:
        p = subprocess.run([binary_path(), *args, "--data-dir", data],
                           env=clean_env({"SESSIOND_SECRET": TEST_SECRET}),
                           stdin=subprocess.DEVNULL, capture_output=True, timeout=RUN_TIMEOUT_S)
    return p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")


def timed(call):
    start = time.monotonic()
    response = call()
    return response, time.monotonic() - start


def free_port() -> int:
    """A port that was free a moment ago (bound to 127.0.0.1, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def maps_libpq(server: Server) -> bool:
    """Whether the running server has libpq mapped into its address space."""
    return "/libpq.so" in Path(f"/proc/{server.proc.pid}/maps").read_text()


class PostgresFlowTest(unittest.TestCase):
    def test_libpq_is_loaded_only_for_a_postgres_database(self):
        # SQLite deployments never map libpq and its dependencies (~3.8 MB resident); a
        # postgres:// URL loads it when the store opens (store/postgres/libpq_loader.h).
        _, url = PG.fresh_schema_url()
        for args, expected in (([], False), (["--database-url", url], True)):
            with self.subTest(args=args):
                server = Server(args=args)
                try:
                    server.start()
                    self.assertEqual(server.client().get("/readyz").status, 200)
                    self.assertEqual(maps_libpq(server), expected)
                finally:
                    server.stop()
                    server.cleanup()

    def assert_signed_out(self, r) -> None:
        self.assertEqual(r.status, 200, r.describe())
        self.assertIsNone(r.json, r.describe())

    def test_migrate_then_sign_up_get_session_sign_out(self):
        secret_password = "pw-" + uuid.uuid4().hex
        schema, url = PG.fresh_schema_url(password=secret_password)
        for attempt in (1, 2):
            with self.subTest(migrate=attempt):
                code, out, err = run_sessiond(["migrate", "--database-url", url])
                self.assertEqual(code, 0, f"stdout: {out}\nstderr: {err}")
                self.assertIn("migrations applied", out)
                self.assertNotIn(secret_password, out + err)
        self.assertEqual(
            PG.psql(f"SELECT string_agg(version::text, ',' ORDER BY version) "
                    f"FROM {schema}.schema_migrations"), "1,2,3")

        server = Server(args=["--database-url", url])
        try:
            server.start()
            c = server.client()
            email = unique_email("pg")
            up = c.sign_up(email=email)
            self.assertEqual(up.status, 200, up.describe())
            r = c.get_session()
            self.assertEqual(r.status, 200, r.describe())
            self.assertEqual(r.json["user"]["email"], email)
            self.assertEqual(r.json["user"]["id"], up.json["user"]["id"])
            session_id = r.json["session"]["id"]
            # The rows are in PostgreSQL, in this schema; only the token's hash is stored.
            self.assertEqual(PG.psql(f"SELECT count(*) FROM {schema}.session "
                                     f"WHERE id = '{session_id}'"), "1")
            self.assertEqual(PG.psql(f"SELECT email FROM {schema}.\"user\""), email)
            token = c.session_cookie.split(".")[0]
            self.assertEqual(PG.psql(f"SELECT count(*) FROM {schema}.session "
                                     f"WHERE token_hash LIKE '%{token}%'"), "0")
            self.assertEqual(c.get("/readyz").status, 200)

            out = c.sign_out()
            self.assertEqual(out.status, 200, out.describe())
            self.assert_signed_out(c.get_session())
            self.assertEqual(PG.psql(f"SELECT count(*) FROM {schema}.session"), "0")
            # Signing in again works on the same database.
            self.assertEqual(c.sign_in(email).status, 200)
            self.assertEqual(c.get_session().json["user"]["email"], email)
        finally:
            code = server.stop()
            server.cleanup()
        self.assertEqual(code, 0)
        self.assertIn("store: postgres", server.stderr)
        self.assertNotIn(secret_password, server.stdout + server.stderr)

    def test_unreachable_database_at_start_fails_fast(self):
        # Nothing listens there: start-up gives up at once.
        port = free_port()
        start = time.monotonic()
        code, out, err = run_sessiond(
            ["--port", "0", "--database-url", f"postgresql://postgres@127.0.0.1:{port}/postgres"])
        elapsed = time.monotonic() - start
        self.assertNotEqual(code, 0, f"stdout: {out}\nstderr: {err}")
        self.assertNotIn("sessiond listening", out)
        self.assertIn("cannot open the store", err)
        self.assertLess(elapsed, RUN_TIMEOUT_S)


class PostgresOutageTest(unittest.TestCase):
    """Stops the module's server mid-test, so it runs after the flow tests (unittest orders
    classes by name: PostgresFlowTest < PostgresOutageTest)."""

    def test_outage_answers_503_quickly_and_recovers_without_restart(self):
        _, url = PG.fresh_schema_url()
        server = Server(args=["--database-url", url])
        try:
            server.start()
            alice = server.client(user_agent="alice-laptop")
            email = unique_email("outage")
            self.assertEqual(alice.sign_up(email=email).status, 200)
            self.assertEqual(alice.get_session().status, 200)
            # A second device, signed out before the outage: its cookie must never come back
            # as valid.
            phone = server.client(user_agent="alice-phone")
            self.assertEqual(phone.sign_in(email).status, 200)
            revoked_cookie = phone.session_cookie
            self.assertEqual(phone.sign_out().status, 200)

            PG.stop()
            try:
                figures = {}
                r, figures["get-session"] = timed(alice.get_session)
                self.assert_unavailable(r)
                r, figures["sign-in"] = timed(lambda: server.client().sign_in(email))
                self.assert_unavailable(r)
                r, figures["get-session (revoked)"] = timed(lambda: server.request(
                    "GET", "/api/auth/get-session",
                    headers={"Cookie": f"{COOKIE_NAME}={revoked_cookie}"}))
                self.assertNotEqual(r.status, 200, "a revoked session answered during the outage: "
                                    + r.describe())
                self.assert_unavailable(r)
                r, figures["readyz"] = timed(lambda: server.request("GET", "/readyz"))
                self.assertEqual(r.status, 503, r.describe())
                self.assertEqual(server.request("GET", "/healthz").status, 200)
                for name, seconds in figures.items():
                    print(f"[ figure ] PostgreSQL stopped: {name} -> 503 in "
                          f"{seconds * 1000:.1f} ms")
                    self.assertLess(seconds, OUTAGE_ANSWER_BOUND_S, name)
                self.assertIsNone(server.proc.poll(), "sessiond exited during the outage")
            finally:
                PG.start()

            # Back: the same process serves again, the first request included.
            r = alice.get_session()
            self.assertEqual(r.status, 200, r.describe())
            self.assertEqual(r.json["user"]["email"], email)
            fresh = server.client()
            self.assertEqual(fresh.sign_in(email).status, 200)
            self.assertEqual(fresh.get_session().json["user"]["email"], email)
            r = server.request("GET", "/api/auth/get-session",
                               headers={"Cookie": f"{COOKIE_NAME}={revoked_cookie}"})
            self.assertEqual(r.status, 200, r.describe())
            self.assertIsNone(r.json, "the revoked session came back: " + r.describe())
            self.assertEqual(server.request("GET", "/readyz").status, 200)
        finally:
            code = server.stop()
            server.cleanup()
        self.assertEqual(code, 0, server.stderr[-3000:])
        self.assertIn("postgres: unavailable", server.stderr)
        self.assertIn("postgres: reachable again", server.stderr)

    def assert_unavailable(self, r) -> None:
        self.assertEqual(r.status, 503, r.describe())
        self.assertEqual(r.json.get("code"), "SERVICE_UNAVAILABLE", r.describe())


if __name__ == "__main__":
    unittest.main()
