#!/usr/bin/env python3
"""Turns the records bench/run.sh collected (JSON lines) into the markdown report and the
gnuplot chart.

usage: report.py RESULTS.jsonl OUT.md OUT.png WORK_DIR

Records of the PostgreSQL pass (`bench/run.sh --database postgres|both`) carry
"database": "postgres"; the others are SQLite's (the field is absent, so older .jsonl files
render as before). Each database gets its own tables, ratios and chart (the PostgreSQL one is
OUT.png with "-postgres" before ".png"); nginx, the machine and the hash times are shared.
"""
import json
import math
import os
import shutil
import subprocess
import sys

SCENARIOS = [
    ("get-session (cookie)", "get-session, cookie"),
    ("get-session (bearer)", "get-session, bearer"),
    ("JWT (GET /token)", "JWT mint"),
    ("list-sessions", "list-sessions"),
    ("sign-in (password)", "sign-in"),
    ("get-session (cookie) @ large", "get-session, large"),
    ("static JSON (ceiling)", "static JSON"),
]
LARGE = "get-session (cookie) @ large"
CEILING = "static JSON (ceiling)"
# Scenarios sessiond is expected to answer (its rows appear even when it did not run).
SESSIOND_SCENARIOS = [s for s, _ in SCENARIOS[:5]]


def server_order(name):
    if name == "sessiond":
        return (0, name)
    if name.startswith("sessiond"):
        return (1, name)
    if "cache off" in name:
        return (2, name)
    if name.startswith("Better Auth"):
        return (3, name)
    return (4, name)


def disp(name):
    return "sessiond (1 thread)" if name == "sessiond" else name


def is_ba(name):
    return name.startswith("Better Auth")


def fmt_rps(v):
    if v is None:
        return "—"
    return f"{v:,.0f}"


def fmt_ms(v):
    if v is None:
        return "—"
    if v >= 100:
        return f"{v:.0f}"
    if v >= 10:
        return f"{v:.1f}"
    return f"{v:.2f}"


def fmt_ratio(v):
    if v is None:
        return "—"
    if v >= 100:
        return f"{v:.0f}×"
    if v >= 10:
        return f"{v:.1f}×"
    return f"{v:.2f}×"


def fmt_pct(v):
    if v is None:
        return "—"
    if v < 0.01:
        return f"{100 * v:.2f} %"
    if v < 0.1:
        return f"{100 * v:.1f} %"
    return f"{100 * v:.0f} %"


def fmt_mb(kb):
    return "—" if kb in (None, "", 0) else f"{kb / 1024:.1f}"


def fmt_count(n):
    if n is None:
        return "?"
    if n >= 1_000_000 and n % 1_000_000 == 0:
        return f"{n // 1_000_000}M"
    if n >= 1000 and n % 1000 == 0:
        return f"{n // 1000}k"
    return f"{n:,}"


def short(v):
    if v >= 1_000_000:
        return f"{v / 1e6:.1f}M"
    if v >= 10_000:
        return f"{v / 1e3:.0f}k"
    if v >= 1000:
        return f"{v / 1e3:.1f}k"
    if v >= 10:
        return f"{v:.0f}"
    return f"{v:.1f}"


def mark(ok):
    return "—" if ok is None else ("✓" if ok else "✗")


# Records that belong to no database: shown with either.
SHARED_KINDS = {"machine", "machine_pg", "hash", "failures", "end"}


def of_database(rec, db):
    if rec["kind"] in SHARED_KINDS:
        return True
    if rec.get("server") == "nginx":  # the ceiling: its row is in every table, the rest once
        return rec["kind"] == "run" or db == "sqlite"
    return rec.get("database", "sqlite") == db


class Results:
    def __init__(self, path, db="sqlite"):
        self.db = db
        self.recs = [json.loads(line) for line in open(path) if line.strip()]
        self.recs = [r for r in self.recs if of_database(r, db)]
        self.machine = next((r for r in self.recs if r["kind"] == "machine"), {})
        self.runs = [r for r in self.recs if r["kind"] == "run"]
        self.errors = {r["server"]: r["error"] for r in self.recs if r["kind"] == "server_error"}
        self.failures = next((r["list"] for r in self.recs if r["kind"] == "failures"), [])

    def of(self, kind):
        return [r for r in self.recs if r["kind"] == kind]

    def run(self, scenario, server):
        for r in self.runs:
            if r["scenario"] == scenario and r["server"] == server:
                return r
        return None

    def rps(self, scenario, server):
        r = self.run(scenario, server)
        if r and r.get("status") == "ok":
            return r["wrk"]["rps"]
        return None

    def best_ba(self, scenario):
        best = None
        for r in self.runs:
            if r["scenario"] == scenario and is_ba(r["server"]) and r.get("status") == "ok":
                if best is None or r["wrk"]["rps"] > best[1]:
                    best = (r["server"], r["wrk"]["rps"])
        return best

    def nginx(self):
        return self.rps(CEILING, "nginx")

    def has_own_rows(self):
        """True when a server other than nginx was measured (or failed) on this database."""
        return any(r.get("server") != "nginx"
                   for r in self.runs + self.of("server_error") + self.of("footprint"))


def main_table(res, large_label):
    out = []
    out.append("| Scenario | Server | req/s | p50 ms | p99 ms | errors | ÷ Better Auth best | ÷ nginx |")
    out.append("|---|---|--:|--:|--:|--:|--:|--:|")
    nginx = res.nginx()
    rows = list(res.runs)
    # sessiond rows that never ran (it did not build or start) still get a line.
    if "sessiond" in res.errors:
        for s in SESSIOND_SCENARIOS:
            if not any(r["scenario"] == s and r["server"].startswith("sessiond") for r in rows):
                rows.append({"scenario": s, "server": "sessiond", "status": "not run",
                             "note": "not run (see below)"})
    order = {s: i for i, (s, _) in enumerate(SCENARIOS)}
    rows.sort(key=lambda r: (order.get(r["scenario"], 99), server_order(r["server"])))
    for r in rows:
        name = r["scenario"]
        if name == LARGE:
            name = f"get-session (cookie), {large_label} sessions stored"
        elif name.startswith("get-session (cookie)"):
            name = name  # the 1k-stored figure
        server = r["server"]
        st = r.get("status")
        if st != "ok":
            label = {"na": "n/a (not implemented yet)", "failed": "failed",
                     "not run": "not run"}.get(st, st)
            note = r.get("note", "")
            if st == "failed" and note:
                label = f"failed: {note[:90]}"
            elif st == "not run":
                label = note
            out.append(f"| {name} | {disp(server)} | {label} | | | | | |")
            continue
        w = r["wrk"]
        best = res.best_ba(r["scenario"])
        vs_ba = w["rps"] / best[1] if best and best[1] > 0 else None
        vs_ng = w["rps"] / nginx if nginx else None
        errs = w["errors_total"]
        err_s = f"{errs:,}" if errs else "0"
        if errs and w["errors"]["status"]:
            err_s += f" ({w['errors']['status']:,} non-2xx)"
        out.append(f"| {name} | {disp(server)} | {fmt_rps(w['rps'])} | {fmt_ms(w['p50_ms'])} | "
                   f"{fmt_ms(w['p99_ms'])} | {err_s} | "
                   f"{fmt_ratio(vs_ba) if not (is_ba(server) and best and best[0] == server) else 'best'} | "
                   f"{fmt_pct(vs_ng)} |")
    return out


def targets_table(res, large_label):
    m = res.machine
    cookie = "get-session (cookie)"
    sd = res.run(cookie, "sessiond")
    sd_ok = sd is not None and sd.get("status") == "ok"
    best = res.best_ba(cookie)
    nginx = res.nginx()
    fp = next((r for r in res.of("footprint") if r["server"] == "sessiond"), None)
    scale = next((r for r in res.of("scale") if r["server"] == "sessiond" and "error" not in r), None)
    if scale is None:  # PostgreSQL: the scale is measured with the session cache off
        scale = next((r for r in res.of("scale")
                      if r["server"].startswith("sessiond") and "error" not in r), None)
    hash_sd = next((r for r in res.of("hash") if r["server"].startswith("sessiond")), None)
    signin = None
    for r in res.runs:
        if r["scenario"] == "sign-in (password)" and r["server"].startswith("sessiond") \
                and r.get("status") == "ok":
            signin = r

    rows = []

    def add(target, measured, ok):
        rows.append(f"| {target} | {measured} | {mark(ok)} |")

    if sd_ok and best:
        v = sd["wrk"]["rps"] / best[1]
        add("get-session ≥ 50× Better Auth's best configuration", f"{fmt_ratio(v)} (vs {best[0]})",
            v >= 50)
    else:
        add("get-session ≥ 50× Better Auth's best configuration", "not measured", None)
    if sd_ok and nginx:
        v = sd["wrk"]["rps"] / nginx
        add("get-session ≥ 60 % of nginx (one core each)", fmt_pct(v), v >= 0.6)
    else:
        add("get-session ≥ 60 % of nginx (one core each)", "not measured", None)
    if sd_ok:
        p99 = sd["wrk"]["p99_ms"]
        add(f"get-session p99 ≤ 1 ms at {m.get('connections', 32)} connections", f"{fmt_ms(p99)} ms",
            p99 <= 1.0)
    else:
        add("get-session p99 ≤ 1 ms at 32 connections", "not measured", None)
    if scale and scale.get("small_rps") and scale.get("large_rps"):
        v = scale["large_rps"] / scale["small_rps"]
        add(f"{large_label} sessions ≥ 80 % of 1k (get-session)", fmt_pct(v), v >= 0.8)
    else:
        add("1M sessions ≥ 80 % of 1k (get-session)", "not measured", None)
    if signin and hash_sd:
        ceiling = m.get("cores", 1) * 1000.0 / hash_sd["ms"]
        v = signin["wrk"]["rps"] / ceiling
        measured = hash_sd.get("parallel_per_s")
        also = (f"; {fmt_pct(signin['wrk']['rps'] / measured)} of the {measured:.1f}/s that "
                f"{m.get('cores', 1)} hashes at once reach" if measured else "")
        add("sign-in ≥ 90 % of cores ÷ hash time",
            f"{fmt_pct(v)} ({signin['wrk']['rps']:.1f} of {ceiling:.1f}/s{also})", v >= 0.9)
    else:
        add("sign-in ≥ 90 % of cores ÷ hash time", "not measured", None)
    if fp:
        add("idle RSS ≤ 15 MB", f"{fmt_mb(fp['idle_rss_kb'])} MB", fp["idle_rss_kb"] <= 15 * 1024)
        add("start → /readyz ≤ 100 ms", f"{fp['ready_ms']:.0f} ms", fp["ready_ms"] <= 100)
    else:
        add("idle RSS ≤ 15 MB", "not measured", None)
        add("start → /readyz ≤ 100 ms", "not measured", None)
    return ["| Target (never asserted) | Measured | Met |", "|---|---|:-:|"] + rows


def scale_table(res, large_label):
    out = [f"| Server | get-session req/s, 1k stored | req/s, {large_label} stored | "
           f"{large_label} ÷ 1k | start → ready with {large_label} | idle RSS with {large_label} (MB) |",
           "|---|--:|--:|--:|--:|--:|"]
    larges = {r["server"]: r for r in res.of("footprint_large")}
    for r in sorted(res.of("scale"), key=lambda r: server_order(r["server"])):
        if "error" in r:
            out.append(f"| {disp(r['server'])} | {r['error'][:100]} | | | | |")
            continue
        s, l = r.get("small_rps") or 0, r.get("large_rps") or 0
        fl = larges.get(r["server"], {})
        out.append(f"| {disp(r['server'])} | {fmt_rps(s) if s else '—'} | {fmt_rps(l) if l else '—'} | "
                   f"{fmt_pct(l / s) if s and l else '—'} | "
                   f"{fl.get('ready_ms', 0):.0f} ms | {fmt_mb(fl.get('idle_rss_kb'))} |")
    return out


def footprint_table(res):
    out = ["| Server | start → ready | idle RSS (MB) | RSS under load (MB) | peak RSS (MB) | notes |",
           "|---|--:|--:|--:|--:|---|"]
    for r in sorted(res.of("footprint"), key=lambda r: server_order(r["server"])):
        ready_url = "/readyz" if r["server"].startswith("sessiond") else (
            "/api/auth/ok" if is_ba(r["server"]) else "/")
        out.append(f"| {disp(r['server'])} | {r['ready_ms']:.0f} ms ({ready_url}) | "
                   f"{fmt_mb(r['idle_rss_kb'])} | {fmt_mb(r.get('load_rss_kb'))} | "
                   f"{fmt_mb(r.get('peak_rss_kb'))} | {r.get('note', '')} |")
    return out


def stale_table(res):
    out = ["| Server | How A was revoked | A's old cookies after revocation | "
           "same with `?disableCookieCache=true` | Verdict |",
           "|---|---|---|---|---|"]
    for r in sorted(res.of("stale"), key=lambda r: server_order(r["server"])):
        x = r["result"]
        if "na" in x:
            out.append(f"| {disp(r['server'])} | n/a: {x['na']} | | | |")
            continue
        if "error" in x:
            out.append(f"| {disp(r['server'])} | error: {x['error']} | | | |")
            continue
        verdict = x["verdict"]
        if r["server"].startswith("sessiond"):
            verdict += " ✓ (must be null)" if verdict == "fresh" else " ✗ (must be null!)"
        elif verdict == "stale":
            verdict += " (answers a revoked session until the cache cookie expires)"
        how = f"{x['method']} → HTTP {x['revoke_status']}"
        out.append(f"| {disp(r['server'])} | {how} | {x['after']} | {x['after_bypass']} | {verdict} |")
    return out


def hash_table(res):
    m = res.machine
    cores = m.get("cores", 1)
    out = ["| Server | Password hash | one hash (median, 1 core) | cores ÷ hash time | "
           "hashes/s, all cores at once | sign-in req/s | % of cores ÷ hash time | "
           "% of all cores at once |", "|---|---|--:|--:|--:|--:|--:|--:|"]
    for h in sorted(res.of("hash"), key=lambda r: server_order(r["server"])):
        ceiling = cores * 1000.0 / h["ms"] if h["ms"] else None
        measured = h.get("parallel_per_s")
        got = res.rps("sign-in (password)", h["server"])
        out.append(f"| {disp(h['server'])} | {h['algorithm']} | {h['ms']:.1f} ms | "
                   f"{ceiling:.1f}/s | {f'{measured:.1f}/s' if measured else '—'} | "
                   f"{f'{got:.1f}' if got else '—'} | "
                   f"{fmt_pct(got / ceiling) if got and ceiling else '—'} | "
                   f"{fmt_pct(got / measured) if got and measured else '—'} |")
    return out


def machine_section(m, end, pg=None):
    rows = [
        "| | |", "|---|---|",
        f"| CPU | {m.get('cpu', '?')}, {m.get('cores', '?')} cores (`nproc`), {m.get('mem_gib', '?')} GiB |",
        f"| OS / kernel | {m.get('os', '?')} / {m.get('kernel', '?')} |",
        f"| load average | {m.get('loadavg', '?')} at start, {end.get('loadavg', '?')} at the end "
        f"(1, 5, 15 min; with wrk and one server the machine itself makes about 1–2, more means "
        f"something else was using the cores); run took {end.get('seconds', '?')} s |",
        f"| sessiond | {m.get('sessiond_version') or 'sessiond'}, git {m.get('sessiond', '?')}, "
        f"binary `{m.get('sessiond_bin', '?')}` |",
        f"| Better Auth | better-auth {m.get('better_auth', '?')} on Node {m.get('node', '?')}, "
        f"better-sqlite3 {m.get('better_sqlite3', '?')} |",
        f"| nginx | {m.get('nginx', '?')} (1 worker) |",
        f"| wrk | {m.get('wrk', '?')}: {m.get('wrk_threads', 1)} thread, "
        f"{m.get('connections', '?')} connections, {m.get('duration_s', '?')} s per scenario "
        f"after {m.get('warmup_s', 0)} s warm-up |",
        f"| sqlite3 CLI (seeding) | {m.get('sqlite3_cli', '?')} |",
        f"| gnuplot | {m.get('gnuplot', '?')} |",
    ]
    if pg:
        rows.append(f"| PostgreSQL | {pg.get('postgres', '?')}, a throwaway server on 127.0.0.1 "
                    f"(`scripts/with-postgres.sh`; fsync and synchronous_commit on, shared_buffers "
                    f"{pg.get('shared_buffers', '?')}); sessiond through libpq "
                    f"({pg.get('sessiond_pool', '?')}), Better Auth through node-postgres `pg` "
                    f"{pg.get('pg_npm', '?')} (`new Pool({{connectionString}})`, max 10); load "
                    f"average {pg.get('loadavg', '?')} when the PostgreSQL pass began |")
    return rows


def chart(res, png, work, large_label, db_title=None):
    gnuplot = shutil.which("gnuplot")
    if not gnuplot:
        return "gnuplot not installed: no chart"
    groups = [(s, label) for s, label in SCENARIOS if s != CEILING]
    servers = sorted({r["server"] for r in res.runs if r["server"] != "nginx"}, key=server_order)
    colors = {"sessiond": "#1b7837", "Better Auth (cache off)": "#c2a5cf",
              "Better Auth (cache on)": "#762a83",
              "sessiond (1 thread, session cache off)": "#00441b"}
    extra = ["#9970ab", "#e7d4e8", "#40004b"]
    n = max(1, len(servers))
    width = 0.8 / n
    vals = [r["wrk"]["rps"] for r in res.runs if r.get("status") == "ok"]
    if not vals:
        return "no successful runs: no chart"
    ymax = 10 ** math.ceil(math.log10(max(vals) * 3))
    ymin = 10 ** math.floor(math.log10(max(0.5, min(vals) / 3)))
    plots, files = [], []
    for i, srv in enumerate(servers):
        path = os.path.join(work, f"chart-{i}.dat")
        lines = []
        for gi, (scen, _) in enumerate(groups):
            x = gi - 0.4 + width * (i + 0.5)
            r = res.run(scen, srv)
            if r is None:
                continue
            if r.get("status") == "ok":
                v = r["wrk"]["rps"]
                ratio = ""
                best = res.best_ba(scen)
                if srv.startswith("sessiond") and best and best[1] > 0:
                    ratio = fmt_ratio(v / best[1])
                lines.append(f"{x:.4f} {v:.3f} \"{short(v)}\" {v:.3f} \"{ratio}\"")
            elif r.get("status") == "na":
                lines.append(f"{x:.4f} NaN \"n/a\" {ymin * 1.6} \"\"")
            elif r.get("status") == "failed":
                lines.append(f"{x:.4f} NaN \"failed\" {ymin * 1.6} \"\"")
        with open(path, "w") as f:
            f.write("\n".join(lines) + "\n")
        if not lines:
            continue
        color = colors.get(srv)
        if color is None:
            if "cache on" in srv and srv.startswith("sessiond"):
                color = "#5aae61"
            elif srv.startswith("sessiond"):
                color = "#a6dba0"
            else:
                color = extra[i % len(extra)]
        title = srv if srv != "sessiond" else "sessiond (1 thread)"
        plots.append(f"'{path}' using 1:2 with boxes lc rgb '{color}' title '{title}'")
        plots.append(f"'{path}' using 1:4:3 with labels offset 0,0.8 font ',9' notitle")
        if srv.startswith("sessiond"):
            plots.append(f"'{path}' using 1:4:5 with labels offset 0,1.9 font ',9' "
                         "tc rgb '#1b7837' notitle")
    nginx = res.nginx()
    m = res.machine
    nl = "\\n"  # gnuplot's newline escape inside a double-quoted tic label
    xt = ", ".join('"' + label.replace(", ", nl) + f'" {gi}' for gi, (_, label) in enumerate(groups))
    xt = xt.replace("large", f"{large_label} stored")
    script = [
        "set terminal pngcairo size 1400,720 enhanced font 'DejaVu Sans,11' noenhanced",
        f"set output '{png}'",
        "set title \"" + (f"{db_title}: " if db_title else "") +
        "Requests per second (log scale; higher is better). "
        "N× over a sessiond bar: sessiond ÷ Better Auth's best configuration"
        + (" on the same database" if db_title else "") + "\\n"
        f"{m.get('cpu', '?')}, {m.get('cores', '?')} cores shared by the server and wrk "
        f"({m.get('wrk_threads', 1)} thread, {m.get('connections', '?')} connections), "
        f"{m.get('stamp', '')}\"",
        "set logscale y",
        f"set yrange [{ymin}:{ymax}]",
        f"set xrange [-0.6:{len(groups) - 0.4}]",
        "set ylabel 'requests per second'",
        "set format y '%.0s%c'",
        f"set xtics ({xt}) nomirror",
        "set grid ytics lc rgb '#bbbbbb' lw 1",
        "set style fill solid 0.9 border lc rgb '#333333'",
        f"set boxwidth {width * 0.95:.4f} absolute",
        "set key top center horizontal maxcols 3 box opaque",
        "set tics font ',10'",
        "set bmargin 5",
    ]
    if nginx:
        script.append(f"set arrow from graph 0, first {nginx} to graph 1, first {nginx} nohead "
                      "dt 2 lw 2 lc rgb '#d6604d' front")
        script.append(f"set label \"nginx ceiling, 1 worker: {short(nginx)} req/s\" at graph 0.01, "
                      f"first {nginx * 1.25} tc rgb '#d6604d' front")
    if not plots:
        return "nothing to plot"
    script.append("plot " + ", \\\n  ".join(plots))
    gp = os.path.join(work, "chart.gp")
    with open(gp, "w") as f:
        f.write("\n".join(script) + "\n")
    p = subprocess.run([gnuplot, gp], capture_output=True, text=True)
    if p.returncode != 0:
        # pngcairo missing: fall back to the gd png terminal.
        with open(gp, "w") as f:
            f.write("\n".join(script).replace(
                "set terminal pngcairo size 1400,720 enhanced font 'DejaVu Sans,11' noenhanced",
                "set terminal png size 1400,720 noenhanced") + "\n")
        p = subprocess.run([gnuplot, gp], capture_output=True, text=True)
        if p.returncode != 0:
            return "gnuplot failed: " + p.stderr.strip()[-300:]
    return None


def database_sections(res, large_label, h="##", on="", seeded_with="the sqlite3 CLI"):
    """The tables of one database's rows: throughput, targets, scale, sign-in, footprint and the
    stale check. h is the heading level; on is appended to each heading (" on PostgreSQL")."""
    m = res.machine
    L = []
    L.append(f"{h} Throughput and latency{on}")
    L.append("")
    L.append(f"Stored sessions: {fmt_count(m.get('scale_small'))} unless the row says otherwise. "
             "÷ Better Auth best: this row's req/s over the fastest Better Auth configuration in the "
             "same scenario" + (" on the same database" if on else "") + ". ÷ nginx: over nginx's "
             "static JSON. Errors: socket errors, timeouts and responses ≥ 400.")
    L.append("")
    L += main_table(res, large_label)
    L.append("")
    for srv, err in res.errors.items():
        L.append(f"- **{srv}** was not measured: {err}")
    if res.errors:
        L.append("")
    L.append(f"{h} Targets{on}")
    L.append("")
    L += targets_table(res, large_label)
    L.append("")
    L.append(f"{h} Scale: stored sessions{on}")
    L.append("")
    L.append(f"The same get-session (cookie) with {fmt_count(m.get('scale_small'))} and "
             f"{large_label} sessions in the table (filler rows seeded with {seeded_with} in one "
             "transaction). Better Auth with its cookie cache off: with it on, get-session does not "
             "read the table.")
    L.append("")
    L += scale_table(res, large_label)
    L.append("")
    L.append(f"{h} Sign-in and the password hash{on}")
    L.append("")
    L.append("Sign-in is bound by the hash. One hash is timed on one core at the configured cost "
             "(Better Auth: node:crypto scrypt as it calls it; sessiond: libsodium argon2id through "
             "PyNaCl, the library sessiond links); cores ÷ that time is the most sign-ins per "
             "second the machine could do, wrk included. For sessiond the hashes per second with "
             "one hashing process per core at once are measured too: memory-hard hashes side by "
             "side share the memory bus and cache, so that is the ceiling the cores really give.")
    L.append("")
    L += hash_table(res)
    L.append("")
    L.append(f"{h} Footprint{on}")
    L.append("")
    L.append("Start → ready: from spawning the process to the first HTTP 200 of its readiness URL "
             "(polled every ~1 ms), with an empty database. RSS from /proc: idle right after ready, "
             "under load half-way through get-session (cookie), peak (VmHWM) at the end.")
    L.append("")
    L += footprint_table(res)
    L.append("")
    L.append(f"{h} Stale cookie cache after revocation{on}")
    L.append("")
    L.append("One user signs in twice (A and B); B revokes A; A's old cookies are then sent to "
             "get-session. Better Auth's cookie cache answers from the signed `session_data` "
             "cookie without asking the database, so it keeps answering until the cookie's maxAge "
             "(300 s here). sessiond must answer null, with its own cookie cache off or on "
             "(`cookieCache.enabled`: revocations are checked in memory).")
    L.append("")
    L += stale_table(res)
    L.append("")
    return L


def postgres_section(pg, png_pg, work, large_label):
    m = pg.machine
    info = next(iter(pg.of("machine_pg")), {})
    chart_err = chart(pg, png_pg, work, large_label,
                      db_title=f"PostgreSQL {info.get('postgres', '')}".strip())
    L = ["## PostgreSQL", ""]
    L.append(f"The same scenarios with **both servers on one PostgreSQL {info.get('postgres', '')}** "
             "(a throwaway server on 127.0.0.1 over TCP, each server in its own database, "
             "PostgreSQL's durable defaults: fsync and synchronous_commit on, shared_buffers "
             f"{info.get('shared_buffers', '?')}). PostgreSQL's own processes run on the same "
             f"{m.get('cores', '?')} cores as the server under test and wrk. Every ratio here is "
             "over Better Auth **on PostgreSQL**; ÷ nginx is over this invocation's one nginx run.")
    L.append("")
    L.append("sessiond's session cache (`sessionCache.enabled`, on by default) answers a repeated "
             "get-session from memory for `sessionCache.maxAge` (5 s), so its default rows reach "
             "PostgreSQL about once per 5 s; **session cache off** makes every get-session a "
             "round trip to PostgreSQL (the database path), and the scale rows are measured that "
             "way. Better Auth with its cookie cache off queries PostgreSQL on every request.")
    L.append("")
    if chart_err is None:
        L.append(f"![requests per second on PostgreSQL]({os.path.basename(png_pg)})")
    else:
        L.append(f"_(chart: {chart_err})_")
    L.append("")
    L += database_sections(pg, large_label, h="###", on=" on PostgreSQL",
                           seeded_with="psql and generate_series")
    return L, chart_err


def main():
    jsonl, md, png, work = sys.argv[1:5]
    res = Results(jsonl)
    pg = Results(jsonl, "postgres")
    has_pg = pg.has_own_rows()
    show_sqlite = res.has_own_rows() or not has_pg
    m = res.machine
    large_label = fmt_count(m.get("scale_large"))
    chart_err = chart(res, png, work, large_label) if show_sqlite else None
    smoke = m.get("mode") == "smoke"
    L = []
    L.append(f"# sessiond benchmark — {m.get('stamp', '?')}{' (smoke run: numbers are not meaningful)' if smoke else ''}")
    L.append("")
    L.append("Produced by `bench/run.sh" + (" --smoke" if smoke else "") + "`; how to read it: "
             "[docs/performance.md](../../docs/performance.md). One invocation, servers run one "
             "at a time on the same machine state.")
    L.append("")
    L.append(f"**The load generator shares the machine:** {m.get('cores', '?')} cores, wrk on "
             f"{m.get('wrk_threads', 1)} thread with {m.get('connections', '?')} connections. "
             "sessiond (threads=1) and nginx (worker_processes 1) get one core each in the "
             "ceiling comparison; Node runs JavaScript on one thread (its libuv pool hashes "
             "passwords on more). The nginx figure is therefore a ceiling shared with wrk, not "
             "the machine's.")
    L.append("")
    if has_pg:
        L.append("**Databases:** " + ("SQLite everywhere but the [PostgreSQL](#postgresql) "
                                      "section, which repeats the scenarios on PostgreSQL."
                                      if show_sqlite else
                                      "PostgreSQL only (`--database postgres`): see "
                                      "[PostgreSQL](#postgresql)."))
        L.append("")
    if show_sqlite:
        if chart_err is None:
            L.append(f"![requests per second]({os.path.basename(png)})")
            L.append("")
        else:
            L.append(f"_(chart: {chart_err})_")
            L.append("")
        L += database_sections(res, large_label)
    pg_chart_err = None
    if has_pg:
        root, ext = os.path.splitext(png)
        lines, pg_chart_err = postgres_section(pg, f"{root}-postgres{ext}", work, large_label)
        L += lines
    L.append("## Machine and versions")
    L.append("")
    L += machine_section(m, next(iter(res.of("end")), {}),
                         next(iter(pg.of("machine_pg")), None) if has_pg else None)
    L.append("")
    if res.failures:
        L.append("## Failures")
        L.append("")
        L += [f"- {f}" for f in res.failures]
        L.append("")
    with open(md, "w") as f:
        f.write("\n".join(L))
    for err in (chart_err, pg_chart_err):
        if err:
            print(f"report.py: {err}", file=sys.stderr)

if __name__ == "__main__":
    main()
