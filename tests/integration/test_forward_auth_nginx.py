"""A real nginx (Debian's nginx-light, ngx_http_auth_request_module) in front of a tiny upstream,
asking sessiond's /api/auth/verify about every request: a request with a session passes and the
upstream sees who it is (X-User-Id / X-User-Email / X-Session-Id), one without is refused with
401, and one after sign-out is refused — by cookie, by bearer session token and by access token
(JWT). docs/deployment.md shows the same nginx configuration.
"""

import http.client
import http.server
import json
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import unittest
from pathlib import Path

from sessiond_harness import COOKIE_NAME, REQUEST_TIMEOUT_S, ServerTestCase

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"

NGINX_CONF = """
daemon off;
master_process off;
worker_processes 1;
error_log {tmp}/error.log warn;
pid {tmp}/nginx.pid;
events {{ worker_connections 64; }}
http {{
  access_log off;
  client_body_temp_path {tmp}/body;
  proxy_temp_path {tmp}/proxy;
  fastcgi_temp_path {tmp}/fastcgi;
  uwsgi_temp_path {tmp}/uwsgi;
  scgi_temp_path {tmp}/scgi;
  server {{
    listen 127.0.0.1:{port};
    # The subrequest: sessiond decides, from the original request's Cookie / Authorization.
    location = /_sessiond_verify {{
      internal;
      proxy_pass http://127.0.0.1:{sessiond}/api/auth/verify;
      proxy_pass_request_body off;
      proxy_set_header Content-Length "";
      proxy_set_header X-Original-URI $request_uri;
    }}
    location /app/ {{
      auth_request /_sessiond_verify;
      auth_request_set $sessiond_user_id $upstream_http_x_user_id;
      auth_request_set $sessiond_user_email $upstream_http_x_user_email;
      auth_request_set $sessiond_session_id $upstream_http_x_session_id;
      proxy_set_header X-User-Id $sessiond_user_id;
      proxy_set_header X-User-Email $sessiond_user_email;
      proxy_set_header X-Session-Id $sessiond_session_id;
      proxy_pass http://127.0.0.1:{upstream};
    }}
    # Sign-in and friends go through the same front door.
    location /api/auth/ {{
      proxy_pass http://127.0.0.1:{sessiond};
    }}
  }}
}}
"""


class _Upstream(http.server.BaseHTTPRequestHandler):
    """Answers with the identity headers nginx passed on."""

    def do_GET(self):  # noqa: N802 (http.server's naming)
        body = json.dumps({
            "path": self.path,
            "userId": self.headers.get("X-User-Id"),
            "email": self.headers.get("X-User-Email"),
            "sessionId": self.headers.get("X-Session-Id"),
        }).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):  # Quiet.
        pass


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class NginxForwardAuthTest(ServerTestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.upstream = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Upstream)
        threading.Thread(target=cls.upstream.serve_forever, daemon=True).start()
        cls.tmp = tempfile.TemporaryDirectory(prefix="sessiond-nginx-")
        cls.nginx_port = _free_port()
        conf = Path(cls.tmp.name) / "nginx.conf"
        conf.write_text(NGINX_CONF.format(tmp=cls.tmp.name, port=cls.nginx_port,
                                          sessiond=cls.server.port,
                                          upstream=cls.upstream.server_address[1]))
        cls.nginx = subprocess.Popen([NGINX, "-c", str(conf), "-p", cls.tmp.name],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 10
        while True:
            if cls.nginx.poll() is not None:
                raise AssertionError(f"nginx exited: {cls.nginx.stderr.read().decode()}\n"
                                     f"{(Path(cls.tmp.name) / 'error.log').read_text()}")
            try:
                socket.create_connection(("127.0.0.1", cls.nginx_port), timeout=0.5).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.02)  # Poll interval while nginx binds; bounded by the deadline.

    @classmethod
    def tearDownClass(cls):
        cls.nginx.terminate()
        cls.nginx.wait(timeout=10)
        cls.upstream.shutdown()
        cls.tmp.cleanup()
        super().tearDownClass()

    def via_nginx(self, path: str, headers: dict[str, str] | None = None):
        conn = http.client.HTTPConnection("127.0.0.1", self.nginx_port, timeout=REQUEST_TIMEOUT_S)
        try:
            conn.request("GET", path, headers=headers or {})
            r = conn.getresponse()
            body = r.read()
            return r.status, body
        finally:
            conn.close()

    def test_session_passes_none_and_signed_out_are_refused(self):
        device, email, signed_up = self.signed_up()
        user_id = signed_up.json["user"]["id"]
        cookie = {"Cookie": f"{COOKIE_NAME}={device.session_cookie}"}
        bearer = {"Authorization": f"Bearer {signed_up.headers.get('set-auth-token')}"}
        jwt = {"Authorization": f"Bearer {device.get('/api/auth/token').json['token']}"}

        status, _ = self.via_nginx("/app/anything")
        self.assertEqual(status, 401)

        for headers in (cookie, bearer, jwt):
            status, body = self.via_nginx("/app/page?x=1", headers)
            self.assertEqual(status, 200, body)
            seen = json.loads(body)
            self.assertEqual(seen["path"], "/app/page?x=1")
            self.assertEqual(seen["userId"], user_id)
            self.assertEqual(seen["email"], email)
            self.assertTrue(seen["sessionId"])

        self.assertEqual(device.sign_out().status, 200)
        for headers in (cookie, bearer, jwt):
            status, body = self.via_nginx("/app/page", headers)
            self.assertEqual(status, 401, body)

    def test_a_forged_identity_header_does_not_pass(self):
        status, _ = self.via_nginx("/app/x", {"X-User-Id": "admin"})
        self.assertEqual(status, 401)


if __name__ == "__main__":
    unittest.main()
