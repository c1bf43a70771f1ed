#!/usr/bin/env python3
"""The few requests bench/run.sh makes outside wrk, speaking Better Auth's wire protocol.
Standard library only; every request goes to the base URL given (127.0.0.1).

  client.py auth BASE sign-up|sign-in EMAIL PASSWORD [NAME]
      → {"status", "cookie": "n=v; n2=v2", "token": raw token, "bearer": signed token}
  client.py probe BASE METHOD PATH [--cookie C] [--bearer T] [--json BODY]
      → {"status", "null": body is JSON null, "bytes"}
  client.py stale BASE SERVER_LABEL
      → the stale-cache check (see stale() below)
"""
import json
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

TIMEOUT = 30


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


OPENER = urllib.request.build_opener(NoRedirect)


def request(base, method, path, cookie=None, bearer=None, body=None):
    """Returns (status, headers, body bytes). Never raises for HTTP statuses."""
    headers = {"Origin": base, "User-Agent": "sessiond-bench"}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    if cookie:
        headers["Cookie"] = cookie
    if bearer:
        headers["Authorization"] = "Bearer " + bearer
    req = urllib.request.Request(base + path, data=data, method=method, headers=headers)
    try:
        with OPENER.open(req, timeout=TIMEOUT) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def cookies_from(headers, jar=None):
    """Applies Set-Cookie headers to an ordered dict name → value (Max-Age=0 deletes)."""
    jar = dict(jar or {})
    for sc in headers.get_all("Set-Cookie") or []:
        first, *attrs = [p.strip() for p in sc.split(";")]
        if "=" not in first:
            continue
        name, value = first.split("=", 1)
        gone = value == "" or any(a.lower() == "max-age=0" for a in attrs)
        if gone:
            jar.pop(name, None)
        else:
            jar[name] = value
    return jar


def cookie_header(jar):
    return "; ".join(f"{k}={v}" for k, v in jar.items())


def parse_json(raw):
    try:
        return json.loads(raw or b"null")
    except ValueError:
        return None


def auth(base, kind, email, password, name=None):
    body = {"email": email, "password": password}
    if kind == "sign-up":
        body["name"] = name or "Bench User"
    status, headers, raw = request(base, "POST", f"/api/auth/{kind}/email", body=body)
    jar = cookies_from(headers)
    data = parse_json(raw) or {}
    token = data.get("token") if isinstance(data, dict) else None
    signed = None
    for k, v in jar.items():
        if k.endswith("session_token"):
            signed = urllib.parse.unquote(v)
    return {
        "status": status,
        "cookie": cookie_header(jar),
        "jar": jar,
        "token": token,
        "bearer": headers.get("set-auth-token") or signed,
    }


def probe(base, method, path, cookie=None, bearer=None, body=None):
    status, _, raw = request(base, method, path, cookie=cookie, bearer=bearer, body=body)
    stripped = raw.strip()
    return {"status": status, "null": stripped in (b"", b"null"), "bytes": len(raw),
            "head": raw[:200].decode("utf-8", "replace")}


def stale(base, label):
    """Sign in twice as one user (A, B); revoke A from B; replay A's cookies.

    With Better Auth's cookie cache on, A's signed session_data cookie still answers a
    session until it expires (maxAge), though the session row is gone: "stale". sessiond has
    no such cache and must answer null. If the server has no /revoke-session yet (404), A
    signs itself out instead and its old cookies are replayed — the same question, asked of
    a session that was deleted server-side."""
    email = f"stale-{int(time.time() * 1000)}@bench.invalid"
    password = "stale-check-password-1"
    out = {"server": label}
    up = auth(base, "sign-up", email, password, "Stale Check")
    if up["status"] != 200:
        out["error"] = f"sign-up answered {up['status']}"
        return out
    a = auth(base, "sign-in", email, password)
    b = auth(base, "sign-in", email, password)
    if a["status"] != 200 or b["status"] != 200:
        out["error"] = f"sign-in answered {a['status']}/{b['status']}"
        return out
    before = probe(base, "GET", "/api/auth/get-session", cookie=a["cookie"])
    out["before"] = "session" if before["status"] == 200 and not before["null"] else \
        f"HTTP {before['status']}" + (" null" if before["null"] else "")
    out["cookies"] = sorted(a["jar"].keys())
    st, _, _ = request(base, "POST", "/api/auth/revoke-session", cookie=b["cookie"],
                       body={"token": a["token"]})
    out["method"] = "revoke-session from B"
    if st == 404:
        st, _, _ = request(base, "POST", "/api/auth/sign-out", cookie=a["cookie"], body={})
        out["method"] = "sign-out by A (no /revoke-session yet), old cookies replayed"
    out["revoke_status"] = st
    after = probe(base, "GET", "/api/auth/get-session", cookie=a["cookie"])
    if after["status"] == 200 and not after["null"]:
        out["after"] = "session"
    elif after["status"] == 200:
        out["after"] = "null"
    else:
        out["after"] = f"HTTP {after['status']}"
    bypass = probe(base, "GET", "/api/auth/get-session?disableCookieCache=true",
                   cookie=a["cookie"])
    out["after_bypass"] = "session" if bypass["status"] == 200 and not bypass["null"] else \
        ("null" if bypass["status"] == 200 else f"HTTP {bypass['status']}")
    out["verdict"] = "stale" if out["after"] == "session" else "fresh"
    return out


def main(argv):
    cmd = argv[1]
    if cmd == "auth":
        base, kind, email, password = argv[2:6]
        name = argv[6] if len(argv) > 6 else None
        r = auth(base, kind, email, password, name)
        r.pop("jar")
        print(json.dumps(r))
        return 0 if r["status"] == 200 else 1
    if cmd == "probe":
        base, method, path = argv[2:5]
        opts = {}
        rest = argv[5:]
        for i in range(0, len(rest), 2):
            key = rest[i].lstrip("-")
            opts[key] = rest[i + 1]
        body = json.loads(opts["json"]) if "json" in opts else None
        print(json.dumps(probe(base, method, path, opts.get("cookie"), opts.get("bearer"), body)))
        return 0
    if cmd == "stale":
        print(json.dumps(stale(argv[2], argv[3])))
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
