"""The performance targets, measured at one size on each database, each a ratio from one run:
the service and the limit app serve at the same time, and their scenarios alternate (the
action, the limit's POST, the work-equivalent limit, the score sheet; again), so that both
see the same machine; then a fixed-rate open-loop run, logins beside actions, the start-up,
the record verification, a list with one client, and memory. `python3 tasks.py bench
--quick` runs only this, at 10k; the whole benchmark runs it first, at its largest size.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import time
from collections import defaultdict

from bench import run as bench

ALTERNATING = ["action", "limit_post", "limit_work", "score_sheet"]
CLIENTS = (1, 4, 16)
OPEN_RATE = 150  # requests per second offered, open loop
OPEN_CONNECTIONS = 64  # the open loop's connections: a request waits for none of them
LOGIN_CLIENTS, STALL_CLIENTS = 2, 4
# The action's targets a run is given, per second: a run that sends them all ends early and
# counts them over its whole duration, so this bounds the rate it can show; well above what
# the action serves, and below what the seeded targets allow over every run of --quick.
ACTION_CAP = 1200


class ActionTargets:
    """The action scenario's requests, handed out in order, each sent once (a candidate who
    consented or withdrew cannot again); what a run did not reach goes to the next run."""

    def __init__(self, info: dict):
        self.lines, _ = bench.request_lines("action", info)
        self.next = 0

    def take(self, n: int) -> list[str]:
        if self.next >= len(self.lines):
            raise RuntimeError("the action's targets ran out: seed a larger population")
        return self.lines[self.next:self.next + n]

    def used(self, result: dict) -> None:
        # every line up to the last one sent: the threads' shares (every n-th line) do not
        # end together, so a count of the requests answered would hand out a line one sent
        if result.get("last_line", -1) >= 0:
            self.next += result["last_line"] + 1
        else:
            self.next += result["requests"] + result.get("clients", 1)

    def left(self) -> int:
        return len(self.lines) - self.next


def _combine(runs: list[dict]) -> dict:
    """Rounds of one scenario: requests over seconds; the worst round's percentiles."""
    requests = sum(r["requests"] for r in runs)
    seconds = sum(r["seconds"] for r in runs)
    out = {"requests": requests, "seconds": round(seconds, 2),
           "rps": round(requests / seconds, 1) if seconds else 0.0,
           "errors": sum(r["errors"] for r in runs), "rounds": len(runs),
           # what the errors were: the non-2xx statuses answered, and the socket errors
           "statuses": " ".join(r["statuses"] for r in runs if r.get("statuses")),
           "socket_errors": sum(r.get("socket_errors", 0) for r in runs),
           "first_error": next((r["first_error"] for r in runs if r.get("first_error")), None),
           "rss_mb": [max(m) for m in zip(*(r["rss_mb"] for r in runs), strict=False)]}
    for k in ("p50_ms", "p95_ms", "p99_ms", "max_ms"):
        out[k] = max(r[k] for r in runs)
    out["rps_rounds"] = [r["rps"] for r in runs]
    return out


def _startups(url: str, workers: int, times: int) -> list[float]:
    out = []
    for _ in range(times):
        server = bench.start_service(url, workers)
        out.append(round(server.startup_s, 2))
        server.stop()
    return out


def _open_loop(server, targets: ActionTargets, toks: list[str], seconds: float) -> dict:
    lines = targets.take(int(OPEN_RATE * seconds))
    req_file, tok_file = bench.DATA / "req-open.tsv", bench.DATA / "tokens.txt"
    req_file.write_text("\n".join(lines) + "\n")
    tok_file.write_text("\n".join(toks) + "\n")
    with bench.RssSampler(server) as rss:
        # wrk with bench/openloop.lua: one thread, enough connections that none is short
        done = subprocess.run(["wrk", "-t1", f"-c{OPEN_CONNECTIONS}", f"-d{seconds + 10:g}s",
                               "--timeout", "10s", "-s", str(bench.BENCH / "openloop.lua"),
                               server.base, "--", str(req_file), str(tok_file),
                               str(OPEN_RATE), "1"], cwd=bench.ROOT,
                              capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"wrk (open loop) failed: {done.stderr[-2000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result.update(rss_mb=rss.mb(), clients=None, offered_rps=OPEN_RATE)
    targets.next += result["requests"]
    return result


def _with_logins(server, info, toks, args, lines: list[str], seconds: float) -> tuple[dict, dict]:
    """Actions at STALL_CLIENTS while LOGIN_CLIENTS log in continuously, from another wrk."""
    login_lines, _ = bench.request_lines("login", info)
    req_file = bench.DATA / "req-login-beside.tsv"
    req_file.write_text("\n".join(login_lines) + "\n")
    argv = ["wrk", "-t1", f"-c{LOGIN_CLIENTS}", f"-d{seconds + 1:g}s", "--timeout", "10s",
            "-s", str(bench.BENCH / "wrk.lua"), server.base, "--", str(req_file),
            str(bench.DATA / "tokens.txt"), "cycle", "1"]
    logins = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(0.5)  # the logins are under way when the actions start
    action = bench.drive(server, "action", info, toks, args, lines=lines,
                         connections=STALL_CLIENTS, duration=seconds)
    out, err = logins.communicate(timeout=seconds + 30)
    if logins.returncode != 0:
        raise RuntimeError(f"wrk (logins) failed: {err}")
    return action, json.loads(out.strip().splitlines()[-1])


def measure(db, size: int, args) -> dict:
    """Every target's figures on one database at one size."""
    info = db.ensure(size)
    quick = args.quick
    seconds = 3 if quick else 4
    rounds = 2 if quick else 3
    out: dict = {"db": db.name, "size": size, "seconds_per_run": seconds, "rounds": rounds}
    url = db.fresh_copy(size)
    out["verify"] = bench.verify_record(url)  # the seeded record, before the load adds to it
    bench.log(f"{db.name} {size}: verify-record {out['verify']}")
    out["startup_s"] = _startups(url, args.workers, 1)
    service = bench.start_service(url, args.workers)
    out["startup_s"].append(round(service.startup_s, 2))
    bench.log(f"{db.name} {size}: startup {out['startup_s']} s")
    limit = bench.start_limit(url, args.workers)
    try:
        toks = bench.tokens(service.base, info)
        bench.warm_up(service, info, toks)
        targets = ActionTargets(info)
        runs: dict[tuple[str, int], list[dict]] = defaultdict(list)
        for clients in CLIENTS:
            for _ in range(rounds):
                for sc in ALTERNATING:
                    server = limit if sc.startswith("limit") else service
                    if sc == "action":
                        r = bench.drive(server, sc, info, toks, args, connections=clients,
                                        duration=seconds, lines=targets.take(ACTION_CAP * seconds))
                        targets.used(r)
                    else:
                        r = bench.drive(server, sc, info, toks, args, connections=clients,
                                        duration=seconds)
                    runs[(sc, clients)].append(r)
                    bench.log(f"  {sc:12} c{clients:<3} {r['rps']:7.0f} req/s  p99"
                              f" {r['p99_ms']:6.1f} ms  errors {r['errors']}"
                              + (f" ({r['statuses']}; first: {r.get('first_error')})"
                                 if r.get("statuses") else ""))
        out["closed"] = {f"{sc}@{c}": _combine(rs) for (sc, c), rs in runs.items()}
        out["open_loop"] = _open_loop(service, targets, toks, seconds + 2)
        bench.log(f"  open loop at {OPEN_RATE}/s: {out['open_loop']}")
        alone, beside, login_runs = [], [], []
        for _ in range(rounds):
            r = bench.drive(service, "action", info, toks, args, connections=STALL_CLIENTS,
                            duration=seconds, lines=targets.take(ACTION_CAP * seconds))
            targets.used(r)
            alone.append(r)
            r, lg = _with_logins(service, info, toks, args, targets.take(ACTION_CAP * seconds),
                                 seconds)
            targets.used(r)
            beside.append(r)
            login_runs.append(lg)
            bench.log(f"  actions c{STALL_CLIENTS} alone {alone[-1]['rps']:.0f} req/s"
                      f" (errors {alone[-1]['errors']} {alone[-1].get('first_error') or ''}),"
                      f" beside {LOGIN_CLIENTS} logging in {r['rps']:.0f} req/s (errors"
                      f" {r['errors']} {r.get('first_error') or ''}; {lg['rps']:.1f}"
                      f" logins/s, p99 {lg['p99_ms']:.0f} ms)")
        out["stall"] = {"alone": _combine(alone), "beside_logins": _combine(beside),
                        "logins": {"rps": round(statistics.mean(x["rps"] for x in login_runs),
                                                1),
                                   "p99_ms": max(x["p99_ms"] for x in login_runs),
                                   "errors": sum(x["errors"] for x in login_runs)}}
        out["targets_left"] = targets.left()
        out["list_c1"] = bench.drive(service, "list_c1", info, toks, args, duration=seconds)
        login16 = bench.drive(service, "login", info, toks, args, duration=seconds)
        out["login16"] = {k: login16[k] for k in ("rps", "p99_ms", "errors", "rss_mb")}
        out["rss_mb"] = max(m for r in (*[x for rs in runs.values() for x in rs],
                                        out["open_loop"], out["list_c1"]) for m in r["rss_mb"])
    finally:
        service.stop()
        limit.stop()
        if hasattr(db, "drop_run"):
            db.drop_run()
    return out


def lines(m: dict) -> list[str]:
    """One line per target, MET or MISS, for one database's figures."""
    db, c = m["db"], m["closed"]
    out = []

    def line(ok: bool, text: str) -> None:
        out.append(f"{'MET ' if ok else 'MISS'} {db} {m['size']}: {text}")

    a16, l16, w16 = c["action@16"], c["limit_post@16"], c["limit_work@16"]
    ratio = a16["rps"] / l16["rps"]
    line(ratio >= .6 and a16["errors"] == 0,
         f"action {a16['rps']:.0f} req/s at 16 clients, {100 * ratio:.0f}% of the limit"
         f" ({l16['rps']:.0f} req/s; ≥ 60%), {a16['errors']} errors")
    ratio = a16["rps"] / w16["rps"]
    line(ratio >= .9, f"action {100 * ratio:.0f}% of the work-equivalent limit"
         f" ({w16['rps']:.0f} req/s; ≥ 90%)")
    s16 = c["score_sheet@16"]
    ratio = s16["rps"] / l16["rps"]
    line(ratio >= .5 and s16["errors"] == 0,
         f"score sheet {s16['rps']:.0f} req/s at 16 clients, {100 * ratio:.0f}% of the limit"
         f" (≥ 50%), {s16['errors']} errors")
    for clients in (1, 4):
        a = c[f"action@{clients}"]
        line(a["p99_ms"] < 50, f"action p99 {a['p99_ms']:.1f} ms at {clients} client(s) (< 50)")
    line(a16["p99_ms"] <= 1.5 * l16["p99_ms"],
         f"action p99 {a16['p99_ms']:.1f} ms at 16 clients, {a16['p99_ms'] / l16['p99_ms']:.2f}×"
         f" the limit's {l16['p99_ms']:.1f} ms (≤ 1.5×)")
    o = m["open_loop"]
    line(o["p99_ms"] < 50 and o["errors"] == 0,
         f"action at {o['offered_rps']} req/s offered (open loop): p99 {o['p99_ms']:.1f} ms"
         f" (< 50), {o['rps']:.0f} req/s done, {o.get('late', 0)} sent late, {o['errors']} errors")
    st = m["stall"]
    ratio = st["beside_logins"]["rps"] / st["alone"]["rps"]
    line(ratio >= .8, f"actions at {STALL_CLIENTS} clients beside {LOGIN_CLIENTS} clients logging"
         f" in: {100 * ratio:.0f}% of their rate alone ({st['beside_logins']['rps']:.0f} of"
         f" {st['alone']['rps']:.0f} req/s; ≥ 80%), {st['logins']['rps']} logins/s")
    worst = max(m["startup_s"])
    line(worst < 2, f"`serve --workers 2` until /readyz: {', '.join(map(str, m['startup_s']))} s"
         " (< 2 s)")
    v = m["verify"]
    line(v["events_per_s"] >= 100_000 and not v["broken"],
         f"verify-record {v['events_per_s']:,} events/s over {v['events']:,} events"
         f" (≥ 100,000; the steps' import {v.get('import_s', '?')} s apart), peak RSS"
         f" {v['peak_rss_mb']} MB")
    lc = m["list_c1"]
    line(lc["p95_ms"] < 20, f"list p95 {lc['p95_ms']:.1f} ms at 1 client (< 20)")
    rss = max(m["rss_mb"], *m["login16"]["rss_mb"])
    line(rss < 200, f"peak worker RSS {rss:.0f} MB, 16 clients logging in included (< 200)")
    return out


def table(suite: dict) -> str:
    """The targets' runs as a markdown table, per database."""
    rows = ["| database | size | run | clients | req/s | p50 ms | p95 ms | p99 ms | errors |"
            " req/s per round |", "|" + "---|" * 10]
    for db, m in suite.items():
        def row(name: str, clients: object, r: dict, db: str = db, m: dict = m) -> None:
            rows.append(f"| {db} | {m['size']:,} | {name} | {clients} | {r['rps']:.0f} |"
                        f" {r.get('p50_ms', 0):.1f} | {r.get('p95_ms', 0):.1f} |"
                        f" {r['p99_ms']:.1f} | {r['errors']} |"
                        f" {' / '.join(f'{x:.0f}' for x in r.get('rps_rounds', []))} |")

        for key, r in m["closed"].items():
            sc, clients = key.split("@")
            row(bench.TITLES.get(sc, sc), clients, r)
        row(f"action, open loop at {OPEN_RATE} req/s offered", "—", m["open_loop"])
        row("action, alone", STALL_CLIENTS, m["stall"]["alone"])
        row(f"action, beside {LOGIN_CLIENTS} clients logging in", STALL_CLIENTS,
            m["stall"]["beside_logins"])
        row("list candidates, 1 client", 1, m["list_c1"])
        rows.append(f"| {db} | {m['size']:,} | logins beside the actions | {LOGIN_CLIENTS} |"
                    f" {m['stall']['logins']['rps']} | | | {m['stall']['logins']['p99_ms']:.1f}"
                    f" | {m['stall']['logins']['errors']} | |")
        rows.append(f"| {db} | {m['size']:,} | login (argon2id) | 16 | {m['login16']['rps']:.0f}"
                    f" | | | {m['login16']['p99_ms']:.1f} | {m['login16']['errors']} | |")
    extra = [f"- {db}: startup {m['startup_s']} s; verify-record {m['verify']}; peak worker RSS"
             f" {max(m['rss_mb'], *m['login16']['rss_mb']):.0f} MB; {m['targets_left']} action"
             " targets left" for db, m in suite.items()]
    return "\n".join(rows) + "\n\n" + "\n".join(extra) + "\n"
