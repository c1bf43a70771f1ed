"""Rate limits shared through Redis (rateLimit.storage = "redis"): two sessiond processes — two
replicas behind one load balancer — on one throwaway redis-server and one SQLite data folder, and
again on one throwaway PostgreSQL (SharedCountersOnPostgresTest).

* Hits on A and on B count against the same per-IP and per-account limits.
* Redis killed: requests keep being answered at once, each replica counting alone in memory,
  with one warning per replica for the outage; Redis restarted: both go back to shared counting
  without a restart.

redis-server (Debian's redis-server, `scripts/deps.sh test`) must be installed: if it is
missing these tests fail, they never skip. Waits are bounded polls on observable state (PING,
the servers' answers), never fixed sleeps."""

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import unittest

from sessiond_harness import DEFAULT_PASSWORD, Server, unique_email
from test_postgres import ThrowawayPostgres

SIGN_IN = "/api/auth/sign-in/email"
WRONG = "wrong-password-123"
TOO_MANY = {"message": "Too many requests. Please try again later.", "code": "TOO_MANY_REQUESTS"}
READY_TIMEOUT_S = 10.0
OUTAGE = "is unavailable"
RECOVERY = "is back;"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _encode(*args: str) -> bytes:
    out = [f"*{len(args)}\r\n".encode()]
    for a in args:
        b = a.encode()
        out.append(f"${len(b)}\r\n".encode() + b + b"\r\n")
    return b"".join(out)


def _read_reply(f):
    line = f.readline()
    if not line:
        raise ConnectionError("redis closed the connection")
    kind, rest = line[:1], line[1:-2].decode()
    if kind == b"+":
        return rest
    if kind == b"-":
        raise RuntimeError(f"redis error: {rest}")
    if kind == b":":
        return int(rest)
    if kind == b"$":
        n = int(rest)
        if n < 0:
            return None
        data = f.read(n + 2)
        return data[:-2].decode()
    if kind == b"*":
        n = int(rest)
        return None if n < 0 else [_read_reply(f) for _ in range(n)]
    raise RuntimeError(f"unexpected RESP line {line!r}")


def redis_command(port: int, *args: str, timeout: float = 2.0):
    """One command on a fresh connection (RESP over a socket: the standard library only)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(_encode(*args))
        with s.makefile("rb") as f:
            return _read_reply(f)


class RedisServer:
    """A throwaway redis-server on 127.0.0.1: a free port, no persistence, its own folder."""

    def __init__(self):
        self.binary = os.environ.get("SESSIOND_REDIS_SERVER") or shutil.which("redis-server")
        if not self.binary:
            raise RuntimeError("redis-server not found (apt-get install redis-server, or set "
                               "SESSIOND_REDIS_SERVER)")
        self._tmp = tempfile.TemporaryDirectory(prefix="sessiond-it-redis-")
        self.port = free_port()
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> "RedisServer":
        self.proc = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--daemonize", "no", "--dir", self._tmp.name,
             "--logfile", os.path.join(self._tmp.name, "redis.log")],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + READY_TIMEOUT_S
        last = ""
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"redis-server exited with {self.proc.returncode}:\n"
                                   f"{self.log()}")
            try:
                if redis_command(self.port, "PING", timeout=0.5) == "PONG":
                    return self
            except OSError as e:
                last = repr(e)
            try:  # A short bounded wait that also notices an early exit.
                self.proc.wait(timeout=0.02)
            except subprocess.TimeoutExpired:
                pass
        self.kill()
        raise RuntimeError(f"redis-server did not answer PING within {READY_TIMEOUT_S}s: {last}")

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=5)
        self.proc = None

    def log(self) -> str:
        try:
            with open(os.path.join(self._tmp.name, "redis.log")) as f:
                return f.read()[-2000:]
        except OSError:
            return ""

    def cleanup(self) -> None:
        self.kill()
        self._tmp.cleanup()


class TwoReplicasCase(unittest.TestCase):
    """One redis-server and two sessiond processes (A, B) sharing it and one data folder."""

    rules = "/api/auth/sign-in/*=10/60s,account:sign-in=5/900s"
    # True: both replicas also share one throwaway PostgreSQL instead of the SQLite file.
    on_postgres = False

    @classmethod
    def setUpClass(cls) -> None:
        super().setUpClass()
        cls.redis = RedisServer()
        cls.servers: list[Server] = []
        cls._data = tempfile.TemporaryDirectory(prefix="sessiond-it-replicas-")
        cls.postgres = ThrowawayPostgres() if cls.on_postgres else None
        try:
            cls.redis.start()
            args = ["--set", "rateLimit.storage=redis", "--set", f"redis.url={cls.redis.url}",
                    "--set", f"rateLimit.rules={cls.rules}"]
            if cls.postgres is not None:
                cls.postgres.start()
                args += ["--database-url", cls.postgres.url]
            # One after the other: A creates the schema and the key file, B finds them.
            for _ in range(2):
                server = Server(args=args, rate_limit=True, data_dir=cls._data.name)
                cls.servers.append(server)
                server.start()
        except Exception:
            cls._cleanup()
            raise
        cls.a, cls.b = cls.servers

    @classmethod
    def _cleanup(cls) -> None:
        for server in cls.servers:
            server.cleanup()
        cls.redis.cleanup()
        if cls.postgres is not None:
            cls.postgres.destroy()
        cls._data.cleanup()

    @classmethod
    def tearDownClass(cls) -> None:
        try:
            for server in cls.servers:
                alive = server.proc is not None and server.proc.poll() is None
                code = server.stop()
                if not alive or code != 0:
                    raise AssertionError(f"sessiond did not stay up and exit 0 (exit {code!r})\n"
                                         f"stderr tail: {server.stderr[-3000:]}")
        finally:
            cls._cleanup()
            super().tearDownClass()

    def setUp(self) -> None:
        # Every test starts from empty counters (all of them come from 127.0.0.1).
        if self.redis.proc is not None:
            self.assertEqual(redis_command(self.redis.port, "FLUSHALL"), "OK")

    # -- helpers ----------------------------------------------------------------------------

    def sign_in(self, server: Server, email: str, password: str = WRONG):
        return server.client().post_json(SIGN_IN, {"email": email, "password": password})

    def assert_counted(self, r, status: int, limit: int, remaining: int) -> None:
        self.assertEqual(r.status, status, r.describe())
        self.assertEqual(r.headers.get("x-ratelimit-limit"), str(limit), r.describe())
        self.assertEqual(r.headers.get("x-ratelimit-remaining"), str(remaining), r.describe())

    def assert_too_many(self, r, window: int) -> None:
        self.assertEqual(r.status, 429, r.describe())
        self.assertEqual(r.json, TOO_MANY, r.describe())
        retry = r.headers.get("retry-after")
        self.assertTrue(retry is not None and retry.isdigit(), r.describe())
        self.assertGreaterEqual(int(retry), 1, r.describe())
        self.assertLessEqual(int(retry), window, r.describe())


class SharedCountersTest(TwoReplicasCase):
    def test_sign_in_limit_counts_hits_on_both_replicas(self):
        # 10 per minute per IP. Unknown emails, one each: only the per-IP rule bites.
        for i in range(6):
            self.assert_counted(self.sign_in(self.a, unique_email()), 401, 10, 9 - i)
        for i in range(4):
            self.assert_counted(self.sign_in(self.b, unique_email()), 401, 10, 3 - i)
        # The eleventh, on either replica, is refused.
        self.assert_too_many(self.sign_in(self.b, unique_email()), 60)
        self.assert_too_many(self.sign_in(self.a, unique_email()), 60)
        # The count lives in Redis, under sessiond's prefix; refused hits were not recorded.
        self.assertEqual(
            redis_command(self.redis.port, "ZCARD", "sessiond:rl:ip:/api/auth/sign-in/*|127.0.0.1"),
            10)
        ttl = redis_command(self.redis.port, "PTTL", "sessiond:rl:ip:/api/auth/sign-in/*|127.0.0.1")
        self.assertGreater(ttl, 0)
        self.assertLessEqual(ttl, 60_000)
        for server in self.servers:
            self.assertNotIn(OUTAGE, server.stderr)
            self.assertIn("counters in Redis at " + self.redis.url, server.stderr)

    def test_account_limit_counts_failures_on_both_replicas(self):
        email = unique_email()
        r = self.a.client().sign_up(email=email)
        self.assertEqual(r.status, 200, r.describe())
        for _ in range(3):
            self.assertEqual(self.sign_in(self.a, email).status, 401)
        for _ in range(2):
            self.assertEqual(self.sign_in(self.b, email).status, 401)
        # Five failures in all: even the right password is refused, on both replicas.
        self.assert_too_many(self.sign_in(self.b, email, password=DEFAULT_PASSWORD), 900)
        self.assert_too_many(self.sign_in(self.a, email, password=DEFAULT_PASSWORD), 900)

    def test_a_success_on_one_replica_clears_the_failures_for_both(self):
        email = unique_email()
        self.assertEqual(self.a.client().sign_up(email=email).status, 200)
        for _ in range(4):
            self.assertEqual(self.sign_in(self.a, email).status, 401)
        r = self.sign_in(self.b, email, password=DEFAULT_PASSWORD)  # Signed up on A, signs in on B.
        self.assertEqual(r.status, 200, r.describe())
        for _ in range(4):
            r = self.sign_in(self.a, email)
            self.assertEqual(r.status, 401, r.describe())


class SharedCountersOnPostgresTest(SharedCountersTest):
    """Issue 7's set-up exactly: two sessiond processes on one PostgreSQL and one Redis; the
    same limits are counted across both."""

    on_postgres = True

    def test_a_session_made_on_one_replica_is_read_on_the_other(self):
        device = self.a.client()
        r = device.sign_up(email=unique_email())
        self.assertEqual(r.status, 200, r.describe())
        other = self.b.client()
        other.jar = dict(device.jar)
        r = other.get_session()
        self.assertEqual(r.status, 200, r.describe())
        self.assertEqual(r.json["user"]["id"], device.get_session().json["user"]["id"])


class RedisOutageTest(TwoReplicasCase):
    rules = "/api/auth/sign-in/*=5/60s"

    def poll_until_answered_by_redis(self, server: Server):
        """Signs in on `server` until it is not refused: while Redis is down the replica's own
        (full) budget refuses, and refused hits are not counted anywhere; the first answer
        that is not a 429 comes from Redis, which the replica probes once a second."""
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline:
            r = self.sign_in(server, unique_email())
            if r.status != 429:
                return r
            time.sleep(0.05)  # Bounded poll; each round is one cheap refused request.
        self.fail(f"the replica did not go back to Redis within {READY_TIMEOUT_S}s\n"
                  f"stderr tail: {server.stderr[-2000:]}")

    def test_redis_down_counts_per_replica_then_shares_again(self):
        self.assert_counted(self.sign_in(self.a, unique_email()), 401, 5, 4)
        self.assert_counted(self.sign_in(self.a, unique_email()), 401, 5, 3)
        self.assert_counted(self.sign_in(self.b, unique_email()), 401, 5, 2)

        self.redis.kill()
        # Each replica now counts alone, from zero, and answers at once.
        for server in self.servers:
            for i in range(5):
                started = time.monotonic()
                r = self.sign_in(server, unique_email())
                self.assertLess(time.monotonic() - started, 1.0, r.describe())
                self.assert_counted(r, 401, 5, 4 - i)
            self.assert_too_many(self.sign_in(server, unique_email()), 60)
        self.assertEqual(self.a.request("GET", "/healthz").status, 200)
        for server in self.servers:
            self.assertEqual(server.stderr.count(OUTAGE), 1, server.stderr[-3000:])
            self.assertNotIn(RECOVERY, server.stderr)

        self.redis.start()  # The same port, empty (nothing was persisted).
        self.assert_counted(self.poll_until_answered_by_redis(self.a), 401, 5, 4)
        self.assert_counted(self.poll_until_answered_by_redis(self.b), 401, 5, 3)
        self.assert_counted(self.sign_in(self.a, unique_email()), 401, 5, 2)
        for server in self.servers:
            self.assertEqual(server.stderr.count(RECOVERY), 1, server.stderr[-3000:])
            self.assertEqual(server.stderr.count(OUTAGE), 1, server.stderr[-3000:])


if __name__ == "__main__":
    unittest.main()
