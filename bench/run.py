"""The load benchmark: seed, serve, drive with wrk, measure, print a table, plot.

    python3 tasks.py bench [--sizes 1000,10000,100000] [--databases sqlite,postgres]
                           [--duration 10] [--connections 16] [--out bench/results]

For each database and size: a seeded database (cached in bench/.data/ per size, copied for
each run so that every run starts from the same data), the service started as a user starts
it (`python -m service serve --workers 2`), each scenario driven by wrk from its own process,
each uvicorn worker's resident memory sampled with psutil; then the limit app
(bench/limit_app.py) on the same database copy. At the largest size: three identical load
runs to see whether memory grows, the record verification's speed and memory, and a py-spy
profile of the slowest scenario.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

import httpx
import psutil

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
DATA = BENCH / ".data"
PY = sys.executable
SECRET = "bench-secret-key-that-is-long-enough-0123456789"
DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/postgres"
SCENARIOS = ["action", "list", "list_c1", "read", "public", "score_sheet", "login"]
# A scenario run with fewer clients than --connections: the list once more with one client,
# to see a request's own cost apart from the queueing of 16 clients on 2 workers.
CONNECTIONS = {"list_c1": 1}
LIMITS = ["limit_post", "limit_work", "limit_get"]
LIMIT_OF = {"action": "limit_post", "score_sheet": "limit_post", "login": "limit_post",
            "list": "limit_get", "read": "limit_get", "public": "limit_get"}  # list_c1: none
TITLES = {
    "action": "candidate action (consent / withdraw)", "list": "list candidates by state (50)",
    "list_c1": "list candidates, 1 client",
    "read": "read candidate + its events", "public": "public announcement list",
    "score_sheet": "submit a score sheet", "login": "login (argon2)",
    "limit_post": "LIMIT: auth POST, 1-row UPDATE", "limit_get": "LIMIT: auth GET of 1 row",
    "limit_work": "LIMIT: lock, bump, chained event, outbox row",
}
MEMORY_MIX = ["list", "read", "public", "score_sheet"]


def log(msg: str) -> None:
    """A progress line on stderr, with the time."""
    print(f"[{datetime.now():%H:%M:%S}] {msg}", file=sys.stderr, flush=True)


def free_port() -> int:
    """A loopback port free right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---------------------------------------------------------------- databases
class SqliteDb:
    """Seeded SQLite files, one per size, copied for each run."""

    name = "sqlite"

    def cache(self, size: int) -> Path:
        return DATA / f"sqlite-{size}.db"

    def run_url(self) -> str:
        return f"sqlite:///{(DATA / 'run-sqlite.db').as_posix()}"

    def ensure(self, size: int) -> dict:
        """The cached, seeded database of this size (seeding it when missing or stale)."""
        from bench.seed import SEED_VERSION, seed

        side = DATA / f"sqlite-{size}.json"
        if side.exists() and self.cache(size).exists():
            info = json.loads(side.read_text())
            if info.get("seed_version") == SEED_VERSION:
                return info
        self.cache(size).unlink(missing_ok=True)
        url = f"sqlite:///{self.cache(size).as_posix()}"
        engine = _migrated(url)
        log(f"seeding SQLite with {size} candidates (cached in {self.cache(size)})")
        info = seed(engine, size)
        with engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        engine.dispose()
        side.write_text(json.dumps(info))
        log(f"seeded: {info['counts']} in {info['seconds']}")
        return info

    def fresh_copy(self, size: int) -> str:
        """A copy of the cached database for one run; its URL."""
        dst = DATA / "run-sqlite.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{dst}{suffix}").unlink(missing_ok=True)
        src = sqlite3.connect(self.cache(size))
        out = sqlite3.connect(dst)
        src.backup(out)
        out.close()
        src.close()
        return self.run_url()

    def version(self) -> str:
        return "SQLite " + sqlite3.sqlite_version


class PostgresDb:
    """Seeded template databases selection_bench_<size>; each run gets selection_bench."""

    name = "postgres"

    def __init__(self, server: str):
        from sqlalchemy.engine import make_url

        self.server = make_url(server.replace("postgresql://", "postgresql+psycopg://", 1))

    def url(self, database: str) -> str:
        return self.server.set(database=database).render_as_string(hide_password=False)

    def _admin(self):
        from sqlalchemy import create_engine

        return create_engine(self.url(self.server.database or "postgres"),
                             isolation_level="AUTOCOMMIT")

    def _exists(self, conn, name: str) -> bool:
        from sqlalchemy import text

        return conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"),
                            {"n": name}).first() is not None

    def ensure(self, size: int) -> dict:
        """The cached, seeded template database of this size."""
        from bench.seed import SEED_VERSION, seed

        name, side = f"selection_bench_{size}", DATA / f"postgres-{size}.json"
        eng = self._admin()
        with eng.connect() as conn:
            if side.exists() and self._exists(conn, name):
                info = json.loads(side.read_text())
                if info.get("seed_version") == SEED_VERSION:
                    eng.dispose()
                    return info
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        eng.dispose()
        engine = _migrated(self.url(name))
        log(f"seeding PostgreSQL database {name} with {size} candidates")
        info = seed(engine, size)
        engine.dispose()
        side.write_text(json.dumps(info))
        log(f"seeded: {info['counts']} in {info['seconds']}")
        return info

    def fresh_copy(self, size: int) -> str:
        """selection_bench, made anew from the template of this size; its URL."""
        eng = self._admin()
        with eng.connect() as conn:
            conn.exec_driver_sql('DROP DATABASE IF EXISTS "selection_bench" WITH (FORCE)')
            conn.exec_driver_sql(
                f'CREATE DATABASE "selection_bench" TEMPLATE "selection_bench_{size}"')
        eng.dispose()
        return self.url("selection_bench")

    def drop_run(self) -> None:
        eng = self._admin()
        with eng.connect() as conn:
            conn.exec_driver_sql('DROP DATABASE IF EXISTS "selection_bench" WITH (FORCE)')
        eng.dispose()

    def version(self) -> str:
        eng = self._admin()
        with eng.connect() as conn:
            v = conn.exec_driver_sql("SHOW server_version").scalar()
        eng.dispose()
        return f"PostgreSQL {v}"


def _migrated(url: str):
    from sqlalchemy import create_engine

    from service.core.db import json_text
    from service.core.migrate import upgrade

    engine = create_engine(url, json_serializer=json_text)  # JSON written as the service does
    upgrade(engine)
    return engine


def postgres_reachable(url: str) -> bool:
    """Whether PostgreSQL answers at this URL."""
    from sqlalchemy import create_engine

    try:
        eng = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1),
                            connect_args={"connect_timeout": 3})
        with eng.connect():
            pass
        eng.dispose()
        return True
    except Exception:  # noqa: BLE001 - any failure means "not here"
        return False


# ---------------------------------------------------------------- servers
class Server:
    """A server process we started (the service, or the limit app), with its workers."""

    def __init__(self, argv: list[str], url: str, name: str):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.name = name
        env = {k: v for k, v in os.environ.items() if not k.startswith("SELECTION_")}
        # production mode, as the service is deployed: the keys given (the record's in the
        # data directory, where the seeding made it), no simulated clock asked for
        env.update({"SELECTION_DATABASE_URL": url, "SELECTION_SECRET_KEY": SECRET,
                    "SELECTION_ENVIRONMENT": "production",
                    "SELECTION_DATA_DIR": str(DATA / "run-data"),
                    "SELECTION_MAIL_SENDER_IN_PROCESS": "false",
                    "SELECTION_WEBHOOK_SENDER_IN_PROCESS": "false", "PYTHONUNBUFFERED": "1"})
        self.log_path = DATA / f"server-{name}.log"
        argv = [a.replace("{port}", str(self.port)) for a in argv]
        self.started = time.monotonic()
        with open(self.log_path, "wb") as logf:
            self.proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=logf,
                                         stderr=subprocess.STDOUT, start_new_session=True)
        self.startup_s = self._wait_ready()

    def _wait_ready(self, timeout: float = 120) -> float:
        deadline = self.started + timeout
        path = "/readyz" if self.name == "service" else "/docs"
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited:\n{self.log_path.read_text()[-3000:]}")
            try:
                if httpx.get(self.base + path, timeout=1).status_code == 200:
                    return time.monotonic() - self.started
            except httpx.HTTPError:
                pass
            time.sleep(0.02)
        raise RuntimeError(f"{self.name} not ready:\n{self.log_path.read_text()[-3000:]}")

    def workers(self) -> list[psutil.Process]:
        """The uvicorn worker processes (children that are not multiprocessing helpers)."""
        try:
            kids = psutil.Process(self.proc.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            return []
        out = []
        for k in kids:
            try:
                if "resource_tracker" not in " ".join(k.cmdline()):
                    out.append(k)
            except psutil.Error:
                pass
        return out or [psutil.Process(self.proc.pid)]

    def stop(self) -> None:
        """SIGINT (uvicorn's graceful stop), then SIGKILL our process group if it lingers."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)


def start_service(url: str, workers: int) -> Server:
    """`python -m service serve --workers N`, as a user runs it (access log off)."""
    return Server([PY, "-m", "service", "serve", "--host", "127.0.0.1", "--port", "{port}",
                   "--workers", str(workers), "--log-level", "warning"], url, "service")


def start_limit(url: str, workers: int) -> Server:
    """The limit app under uvicorn with the same number of workers."""
    return Server([PY, "-m", "uvicorn", "bench.limit_app:app", "--host", "127.0.0.1",
                   "--port", "{port}", "--workers", str(workers), "--log-level", "warning",
                   "--no-access-log"], url, "limit")


class RssSampler:
    """Peak RSS per worker process while a load runs."""

    def __init__(self, server: Server, every: float = 0.2):
        self.server, self.every = server, every
        self.peak: dict[int, int] = defaultdict(int)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        procs = self.server.workers()
        while not self._stop.is_set():
            for p in procs:
                with contextlib.suppress(psutil.Error):
                    self.peak[p.pid] = max(self.peak[p.pid], p.memory_info().rss)
            self._stop.wait(self.every)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def mb(self) -> list[float]:
        return [round(v / 2**20, 1) for _, v in sorted(self.peak.items())]


# ---------------------------------------------------------------- load
def tokens(base: str, info: dict) -> list[str]:
    """Bearer tokens: the admin first, then each judge."""
    out = []
    for name in ["admin", *info["judges"]]:
        r = httpx.post(f"{base}/api/v1/auth/token",
                       data={"username": name, "password": info["password"]}, timeout=30)
        r.raise_for_status()
        out.append(r.json()["access_token"])
    return out


def warm_up(server: Server, info: dict, toks: list[str]) -> None:
    """A few reads through every router, from 16 clients so that both workers get some:
    FastAPI builds a router's routes on its first request, which took 1–2 s per worker and
    would otherwise land in the first scenario's tail latency."""
    from concurrent.futures import ThreadPoolExecutor

    t, auth = info["targets"], {"Authorization": f"Bearer {toks[0]}"}
    paths = [f"/api/v1/candidates/{t['read'][0]}", f"/api/v1/candidates/{t['read'][0]}/events",
             f"/api/v1/selections/{t['list'][0][0]}/candidates?limit=5",
             f"/api/v1/selections/{t['list'][0][0]}", "/api/v1/public/selections",
             f"/api/v1/candidates/{t['read'][0]}/actions", "/api/v1/auth/me"]

    def get(path: str) -> None:
        with contextlib.suppress(httpx.HTTPError):
            httpx.get(server.base + path, headers=auth, timeout=30)

    with ThreadPoolExecutor(16) as pool:
        list(pool.map(get, paths * 8))


def request_lines(scenario: str, info: dict) -> tuple[list[str], str]:
    """The request file of a scenario and its mode (cycle, or once)."""
    t = info["targets"]
    api = "/api/v1"
    if scenario == "action":
        consent = json.dumps({"params": {"confirmed_by": "王组织委员",
                                         "confirmed_at": "2026-01-05T08:30:00+08:00"}},
                             ensure_ascii=False)
        withdraw = json.dumps({"reason": "本人申请退出"}, ensure_ascii=False)
        # Each action sends the If-Match of the version it acts on, as a client must (a new
        # selection requires it): the seeded one, one more for a withdrawal after a consent.
        def etag(c: str, bump: int = 0) -> str:
            return f'"candidate-{uuid.UUID(c).hex}-v{t["versions"][c] + bump}"'
        lines = [f"POST\t{api}/candidates/{c}/actions/consent\t0\tjson\t{consent}\t{etag(c)}"
                 for c in t["consent"]]
        # Those consenting first are withdrawn last, long after their consent has answered.
        later = set(t["consent"])
        lines += [f"POST\t{api}/candidates/{c}/actions/withdraw\t0\tjson\t{withdraw}"
                  f"\t{etag(c, c in later)}"
                  for c in sorted(t["withdraw"], key=lambda c: c in later)]
        return lines, "once"
    if scenario in ("list", "list_c1"):
        return [f"GET\t{api}/selections/{s}/candidates?state={st}&limit=50\t0\t-\t"
                for s, st in t["list"]], "cycle"
    if scenario == "read":
        return [line for c in t["read"][:5000] for line in (
            f"GET\t{api}/candidates/{c}\t0\t-\t", f"GET\t{api}/candidates/{c}/events\t0\t-\t")
        ], "cycle"
    if scenario == "public":
        return [f"GET\t{api}/public/selections?limit=50\t-\t-\t"], "cycle"
    if scenario == "score_sheet":
        body = json.dumps({"scores": {"self_introduction": 85, "role_cognition": 90,
                                      "answers": 88, "overall_impression": 80},
                           "comment": "思路清晰", "supersede_reason": "复核后更正"},
                          ensure_ascii=False)
        return [f"POST\t{api}/candidates/{c}/score-sheets\t{j + 1}\tjson\t{body}"
                for j, c in t["sheet_pairs"]], "cycle"
    if scenario == "login":
        return [f"POST\t{api}/auth/token\t-\tform\tusername={u}&password={info['password']}"
                for u in ["admin", *info["judges"]]], "cycle"
    # The limit's writes bump rows too: never the action's targets, whose If-Match names the
    # version they were seeded with.
    bumped = [c for c in t["read"] if c not in t["versions"]][:5000]
    if scenario == "limit_post":
        return [f"POST\t/items/{c}\t0\tjson\t{{\"note\": \"x\"}}" for c in bumped], "cycle"
    if scenario == "limit_work":
        return [f"POST\t/work/{c}\t0\tjson\t{{\"note\": \"x\"}}" for c in bumped], "cycle"
    if scenario == "limit_get":
        return [f"GET\t/items/{c}\t0\t-\t" for c in t["read"][:5000]], "cycle"
    raise ValueError(scenario)


def drive(server: Server, scenario: str, info: dict, toks: list[str], args, *,
          lines: list[str] | None = None, connections: int | None = None,
          duration: float | None = None) -> dict:
    """One wrk run of a scenario against a server; its figures and the workers' peak RSS.
    `lines` replaces the scenario's requests (a share of the action's targets, each used
    once); `connections` and `duration` the run's."""
    own, mode = request_lines(scenario, info)
    lines = own if lines is None else lines
    req_file, tok_file = DATA / f"req-{scenario}.tsv", DATA / "tokens.txt"
    req_file.write_text("\n".join(lines) + "\n")
    tok_file.write_text("\n".join(toks) + "\n")
    clients = connections or CONNECTIONS.get(scenario, args.connections)
    argv = ["wrk", "-t1", f"-c{clients}", f"-d{duration or args.duration}s", "--timeout", "10s",
            "-s", str(BENCH / "wrk.lua"), server.base, "--", str(req_file), str(tok_file), mode,
            "1"]
    load_before = os.getloadavg()[0]
    with RssSampler(server) as rss:
        done = subprocess.run(argv, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed: {done.stderr}\n{done.stdout}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result.update({"scenario": scenario, "rss_mb": rss.mb(), "load_before": round(load_before, 2),
                   "targets_available": len(lines) if mode == "once" else None,
                   "clients": clients})
    if mode == "once":
        # The healthz requests a connection sends after its thread ran out of targets are not
        # the scenario's work: count only the scenario's own.
        result["requests"] = min(result["requests"], len(lines))
        result["rps"] = round(result["requests"] / result["seconds"], 1)
    return result


# ---------------------------------------------------------------- other measurements
# What `python -m service verify-record` runs (chains, deciding rows, states), timed alone.
# The rate is that of the verification itself; importing the steps that register the rows and
# states it checks (what the command's process does once, and a serving worker has done
# already) is timed apart, as import_s.
VERIFY_SNIPPET = """
import json, time
t_import = time.perf_counter()
from service.__main__ import record_report
from service import facts  # noqa: F401
import_s = time.perf_counter() - t_import
# the record as served: serve takes the automatic checkpoint at its start when there is none,
# and verification reads the chains against it
from service.config import get_settings
from service.record.service import checkpoint_round
t_cp = time.perf_counter()
checkpoint_round(get_settings())
checkpoint_s = time.perf_counter() - t_cp
t0 = time.perf_counter()
report = record_report()
dt = time.perf_counter() - t0
print(json.dumps({"events": report.events, "broken": report.broken is not None,
                  "import_s": round(import_s, 2), "checkpoint_s": round(checkpoint_s, 2),
                  "seconds": round(dt, 2), "events_per_s": round(report.events / dt),
                  "rows_checked": report.rows_checked,
                  "subjects_checked": report.subjects_checked}))
"""


def _rss(process: psutil.Process) -> int:
    """A process's resident memory, its pages shared with others (a forked part's with its
    parent) counted in shares (PSS); 0 once it has gone."""
    try:
        return process.memory_full_info().pss
    except psutil.Error:
        return 0


def verify_record(url: str) -> dict:
    """The record verification over the whole database: speed, and the peak memory of its
    processes together (the command's and those it verifies parts in), sampled from outside
    (getrusage's maxrss would carry the parent's over fork and exec)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SELECTION_")}
    env.update({"SELECTION_DATABASE_URL": url, "SELECTION_DATA_DIR": str(DATA / "run-data")})
    proc = subprocess.Popen([PY, "-c", VERIFY_SNIPPET], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, text=True)
    peak, ps = 0, psutil.Process(proc.pid)
    while proc.poll() is None:
        with contextlib.suppress(psutil.Error):
            tree = [ps, *ps.children(recursive=True)]
            peak = max(peak, sum(_rss(p) for p in tree))
        time.sleep(0.1)  # reading smaps takes CPU from what is measured
    out = proc.stdout.read() if proc.stdout else ""
    if proc.returncode != 0:
        raise RuntimeError(f"verification failed ({proc.returncode}): {out}")
    result = json.loads(out.strip().splitlines()[-1])
    result["peak_rss_mb"] = round(peak / 2**20, 1)
    return result


def profile(server: Server, scenario: str, info: dict, toks: list[str], args, out: Path
            ) -> Path | None:
    """A py-spy profile of every worker while wrk drives `scenario`; a text summary."""
    spy = shutil.which("py-spy") or str(Path(PY).parent / "py-spy")
    if not Path(spy).exists():
        log("py-spy is not installed; no profile")
        return None
    raw = DATA / f"profile-{scenario}.txt"
    rec = subprocess.Popen([spy, "record", "--pid", str(server.proc.pid), "--subprocesses",
                            "--format", "raw", "--rate", "200", "--duration",
                            str(args.duration), "--output", str(raw), "--nonblocking"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    time.sleep(1)
    result = drive(server, scenario, info, toks, args)
    rec.wait(60)
    if not raw.exists():
        log(f"py-spy wrote nothing: {rec.stderr.read().decode()[-500:] if rec.stderr else ''}")
        return None
    summary = out / f"profile-{scenario}.txt"
    summary.write_text(summarize_profile(raw, scenario, result))
    return summary


# Leaf frames of a thread with nothing to do.
IDLE = {"Condition.wait", "Queue.get", "Runner.run", "select", "EpollSelector.select",
        "BaseEventLoop._run_once", "Event.wait", "Thread.join", "_wait_for_tstate_lock"}


def summarize_profile(raw: Path, scenario: str, result: dict) -> str:
    """Inclusive and self time per function, from py-spy's collapsed stacks."""
    inclusive: dict[str, int] = defaultdict(int)
    own: dict[str, int] = defaultdict(int)
    total = idle = 0
    for line in raw.read_text().splitlines():
        stack, _, n = line.rpartition(" ")
        if not stack or not n.isdigit():
            continue
        count = int(n)
        frames = [f for f in stack.split(";") if not f.startswith("process ")
                  and not f.startswith("thread ")]
        if not frames or frames[-1].split(" (")[0] in IDLE:
            idle += count
            continue
        total += count
        for f in set(frames):
            inclusive[f] += count
        own[frames[-1]] += count

    def pretty(frame: str) -> str:
        return frame.replace(str(ROOT) + "/", "").replace(
            str(Path(PY).parent.parent) + "/lib/python3.11/site-packages/", "")

    lines = [f"py-spy profile of the '{scenario}' scenario ({TITLES[scenario]}), both workers,"
             f" 200 Hz while wrk ran it: {total} busy samples (and {idle} of threads waiting"
             " for work: the thread pool's queue, the event loop's select), shares of the busy"
             " ones.",
             f"  {result['rps']} req/s, p50 {result['p50_ms']} ms, p99 {result['p99_ms']} ms"
             f" (the profiler slows it down)", "",
             "Inclusive (a function and what it calls), top 40:"]
    for f, n in sorted(inclusive.items(), key=lambda kv: -kv[1])[:40]:
        lines.append(f"  {100 * n / total:5.1f}%  {pretty(f)}")
    lines += ["", "Self (where the samples land), top 30:"]
    for f, n in sorted(own.items(), key=lambda kv: -kv[1])[:30]:
        lines.append(f"  {100 * n / total:5.1f}%  {pretty(f)}")
    return "\n".join(lines) + "\n"


def machine(dbs: list) -> str:
    """The machine, as a markdown list."""
    cpu = next((line.split(":", 1)[1].strip() for line in
                Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    mem = subprocess.run(["free", "-m"], capture_output=True, text=True).stdout
    wrk = subprocess.run(["wrk", "-v"], capture_output=True, text=True)
    lines = [f"- date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC",
             f"- CPU: {cpu}, {os.cpu_count()} cores (the load generator runs on the same cores)",
             f"- kernel: {platform.system()} {platform.release()}",
             f"- Python {platform.python_version()}; " + "; ".join(d.version() for d in dbs),
             f"- wrk: {(wrk.stdout or wrk.stderr).splitlines()[0] if (wrk.stdout or wrk.stderr) else '?'}",
             f"- load average at the start: {os.getloadavg()}",
             "- memory (free -m):", "```", mem.rstrip(), "```"]
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------- report
def table(results: list[dict]) -> str:
    """The results as a markdown table."""
    head = ("| database | candidates | scenario | req/s | p50 ms | p95 ms | p99 ms | errors |"
            " peak RSS per worker (MB) | × limit req/s |")
    rows = [head, "|" + "---|" * 10]
    for r in results:
        ratio = f"{r['ratio']:.2f}" if r.get("ratio") is not None else "—"
        rows.append(f"| {r['db']} | {r['size']:,} | {TITLES[r['scenario']]} | {r['rps']:.0f} | "
                    f"{r['p50_ms']:.1f} | {r['p95_ms']:.1f} | {r['p99_ms']:.1f} | "
                    f"{r['errors']} | {' / '.join(map(str, r['rss_mb']))} | {ratio} |")
    return "\n".join(rows) + "\n"


def plot(results: list[dict], path: Path) -> None:
    """p50 and p95 latency against size, one panel per database."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    dbs = sorted({r["db"] for r in results}, key=lambda d: d != "sqlite")
    fig, axes = plt.subplots(1, len(dbs), figsize=(7 * len(dbs), 5.5), squeeze=False)
    for ax, db in zip(axes[0], dbs, strict=True):
        for i, sc in enumerate(SCENARIOS + LIMITS):
            pts = sorted((r["size"], r["p50_ms"], r["p95_ms"]) for r in results
                         if r["db"] == db and r["scenario"] == sc)
            if not pts:
                continue
            xs = [p[0] for p in pts]
            color = f"C{i}"
            style = ":" if sc.startswith("limit") else "-"
            ax.plot(xs, [p[2] for p in pts], style, marker="o", color=color,
                    label=f"{TITLES[sc]} (p95)")
            ax.plot(xs, [p[1] for p in pts], style, marker=".", color=color, alpha=.45,
                    linewidth=1)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("candidates in the database")
        ax.set_ylabel("latency, ms (p95 bold, p50 faint)")
        ax.set_title(f"{db}: latency against size, 16 concurrent clients")
        ax.grid(True, which="both", alpha=.3)
        ax.legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def check_targets(report: dict) -> list[str]:
    """Each target: MET or MISS, with its figure. The targets' own measurements
    (bench/targets.py) first; then, of a whole run, the lists and memory against size."""
    from bench import targets

    res, out = report["results"], []
    for m in report.get("suite", {}).values():
        out += targets.lines(m)

    def get(db, size, sc):
        return next((r for r in res if r["db"] == db and r["size"] == size
                     and r["scenario"] == sc), None)

    for db in sorted({r["db"] for r in res}):
        sizes = sorted({r["size"] for r in res if r["db"] == db})
        for sc, clients in (("list", 16), ("list_c1", 1)):
            lo, hi = get(db, sizes[0], sc), get(db, sizes[-1], sc)
            if lo and hi:
                ok = hi["p95_ms"] < 20 and hi["p95_ms"] <= 1.5 * lo["p95_ms"]
                out.append(f"{'MET ' if ok else 'MISS'} {db}: list p95 with {clients} client(s)"
                           f" {hi['p95_ms']:.1f} ms at {sizes[-1]} (< 20), "
                           f"{hi['p95_ms'] / lo['p95_ms']:.2f}× its figure at {sizes[0]} (≤ 1.5)")
        big = [r for r in res if r["db"] == db and r["size"] == sizes[-1]
               and not r["scenario"].startswith("limit")]
        worst = max((m for r in big for m in r["rss_mb"]), default=0)
        out.append(f"{'MET ' if worst < 200 else 'MISS'} {db}: peak worker RSS at {sizes[-1]}"
                   f" is {worst:.0f} MB (< 200) in every scenario, logins included")
    for db, m in report.get("memory", {}).items():
        growth = max(m["growth_pct"])
        out.append(f"{'MET ' if growth <= 10 else 'MISS'} {db}: worker RSS growth between"
                   f" load runs 2 and 3 is {growth:+.1f}% (≤ 10%); runs: {m['runs']}")
    for db, v in report.get("verify", {}).items():
        big = v[-1]
        flat = big["peak_rss_mb"] <= 1.2 * v[0]["peak_rss_mb"] + 10
        ok = big["events_per_s"] >= 100_000 and flat
        out.append(f"{'MET ' if ok else 'MISS'} {db}: verify-record {big['events_per_s']:,}"
                   f" events/s over {big['events']:,} events (≥ 100,000), peak RSS "
                   f"{' → '.join(str(x['peak_rss_mb']) for x in v)} MB across sizes")
    return out


# ---------------------------------------------------------------- main
def run(args) -> int:
    """Everything, in order; writes the results and prints the table."""
    DATA.mkdir(parents=True, exist_ok=True)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed: `apt-get install wrk` (tasks.py bench installs it)")
    dbs: list = []
    for name in args.databases.split(","):
        if name == "sqlite":
            dbs.append(SqliteDb())
        elif name == "postgres":
            if postgres_reachable(args.postgres):
                dbs.append(PostgresDb(args.postgres))
            else:
                log(f"PostgreSQL is not reachable at {args.postgres}: its runs are SKIPPED")
    sizes = [int(s) for s in args.sizes.split(",")]
    pg_sizes = [int(s) for s in (args.pg_sizes or args.sizes).split(",")]
    only = args.scenarios.split(",") if args.scenarios else SCENARIOS
    report: dict = {"started": datetime.now(UTC).isoformat(), "args": vars(args),
                    "results": [], "memory": {}, "verify": {}, "startup": {}, "seed": {},
                    "suite": {}}
    (out / "machine.md").write_text(machine(dbs))
    t_start = time.monotonic()
    from bench import targets

    for db in dbs:  # the targets first, each database at one size, on a quiet machine
        log(f"{db.name} {args.targets_size}: the targets, alternating with the limit app")
        report["suite"][db.name] = targets.measure(db, args.targets_size, args)
        for line in targets.lines(report["suite"][db.name]):
            log(line)
    for db in [] if args.quick else dbs:
        for size in (sizes if db.name == "sqlite" else pg_sizes):
            info = db.ensure(size)
            report["seed"][f"{db.name}-{size}"] = {"counts": info["counts"],
                                                   "seconds": info["seconds"]}
            url = db.fresh_copy(size)
            log(f"{db.name} {size}: starting the service (2 workers)")
            server = start_service(url, args.workers)
            report["startup"].setdefault(db.name, {})[str(size)] = round(server.startup_s, 2)
            try:
                toks = tokens(server.base, info)
                warm_up(server, info, toks)
                for sc in only:
                    r = drive(server, sc, info, toks, args)
                    r.update(db=db.name, size=size)
                    report["results"].append(r)
                    log(f"  {sc:12} {r['rps']:7.0f} req/s  p50 {r['p50_ms']:6.1f}  p95 "
                        f"{r['p95_ms']:6.1f}  p99 {r['p99_ms']:6.1f} ms  errors {r['errors']}"
                        f"  rss {r['rss_mb']}")
                if size == (sizes if db.name == "sqlite" else pg_sizes)[-1] and args.memory_runs:
                    runs = []
                    for i in range(args.memory_runs):
                        peaks: dict[int, float] = defaultdict(float)
                        for sc in MEMORY_MIX:
                            r = drive(server, sc, info, toks, args)
                            for w, mb in enumerate(r["rss_mb"]):
                                peaks[w] = max(peaks[w], mb)
                        runs.append([peaks[w] for w in sorted(peaks)])
                        log(f"  memory run {i + 1}: peak RSS per worker {runs[-1]} MB")
                    growth = [round(100 * (b - a) / a, 1) for a, b in zip(runs[-2], runs[-1],
                                                                           strict=False)]
                    report["memory"][db.name] = {"size": size, "mix": MEMORY_MIX, "runs": runs,
                                                 "growth_pct": growth}
            finally:
                server.stop()
            log(f"{db.name} {size}: the limit app")
            limit = start_limit(url, args.workers)
            try:
                for sc in LIMITS:
                    r = drive(limit, sc, info, toks, args)
                    r.update(db=db.name, size=size)
                    report["results"].append(r)
                    log(f"  {sc:12} {r['rps']:7.0f} req/s  p50 {r['p50_ms']:6.1f}  p95 "
                        f"{r['p95_ms']:6.1f}  p99 {r['p99_ms']:6.1f} ms  errors {r['errors']}")
            finally:
                limit.stop()
            # A slow verification takes minutes at 100k on PostgreSQL too; SQLite's is enough
            # to show the rate and the memory against size.
            if args.verify and (db.name == "sqlite" or size <= 10_000):
                v = verify_record(url)
                v["size"] = size
                report["verify"].setdefault(db.name, []).append(v)
                log(f"  verify-record: {v}")
            if isinstance(db, PostgresDb):
                db.drop_run()
    for r in report["results"]:
        lim = next((x for x in report["results"] if x["db"] == r["db"] and x["size"] == r["size"]
                    and x["scenario"] == LIMIT_OF.get(r["scenario"])), None)
        r["ratio"] = round(r["rps"] / lim["rps"], 3) if lim else None
    # The profile: the slowest scenario relative to its limit (login aside: argon2 is slow on
    # purpose), at the largest SQLite size.
    if args.profile and dbs and not args.quick:
        db = dbs[0]
        size = (sizes if db.name == "sqlite" else pg_sizes)[-1]
        cands = [r for r in report["results"] if r["db"] == db.name and r["size"] == size
                 and r["scenario"] in only and r["scenario"] != "login"
                 and r["ratio"] is not None]
        if cands:
            write_report(report, out)  # the figures are safe before the profile runs
            slow = min(cands, key=lambda r: r["ratio"])["scenario"]
            log(f"profiling '{slow}' on {db.name} {size} with py-spy")
            info = db.ensure(size)
            server = start_service(db.fresh_copy(size), args.workers)
            try:
                summary = profile(server, slow, info, tokens(server.base, info), args, out)
                report["profile"] = str(summary) if summary else None
            except Exception as e:  # noqa: BLE001 - the figures above matter more
                log(f"the profile failed: {e!r}")
            finally:
                server.stop()
    report["wall_seconds"] = round(time.monotonic() - t_start)
    write_report(report, out)
    return 0


def write_report(report: dict, out: Path) -> None:
    """results.json, results.md (table, other figures, targets) and the plot."""
    args = report["args"]
    report["targets"] = check_targets(report)
    (out / "results.json").write_text(json.dumps(report, indent=1, ensure_ascii=False))
    from bench import targets

    text = (targets.table(report["suite"]) + "\n" if report.get("suite") else "") + (
        table(report["results"]) if report["results"] else "")
    verify = "\n".join(
        f"- {db} {v['size']:,} candidates: {v['events']:,} events in {v['seconds']} s, "
        f"{v['events_per_s']:,} events/s, peak RSS {v['peak_rss_mb']} MB"
        for db, vs in report["verify"].items() for v in vs)
    memory = "\n".join(
        f"- {db} {m['size']:,} candidates, {' + '.join(m['mix'])}: peak RSS per worker, runs"
        f" 1–3: {m['runs']} MB; run 2 → 3: {m['growth_pct']} %"
        for db, m in report["memory"].items())
    extra = ["", "Startup, `serve` on a migrated database until /readyz answers (s): "
             + json.dumps(report["startup"]), "", "Record verification (what `verify-record`"
             " runs: chains, deciding rows, states; whole database, own process):", verify, "",
             "Memory, the same load three times at the largest size:", memory,
             "", "Targets:", *[f"- {t}" for t in report["targets"]], "",
             f"Whole run: {report.get('wall_seconds')} s; wrk -t1 -c{args['connections']} "
             f"-d{args['duration']}s per scenario (list_c1: -c1)."]
    (out / "results.md").write_text(f"# Benchmark results\n\n{text}\n" + "\n".join(extra)
                                    + "\n")
    if report["results"]:
        plot(report["results"], out / "latency.png")
    print(text + "\n".join(extra))
    log(f"wrote {out}/results.md, results.json, latency.png, machine.md")


def seed_only(args) -> int:
    """Seed (or find cached) every database of the run, and nothing else."""
    DATA.mkdir(parents=True, exist_ok=True)
    for name in args.databases.split(","):
        if name == "postgres" and not postgres_reachable(args.postgres):
            continue
        db = SqliteDb() if name == "sqlite" else PostgresDb(args.postgres)
        sizes = args.sizes if name == "sqlite" or not args.pg_sizes else args.pg_sizes
        for size in sorted({int(x) for x in sizes.split(",")} | {args.targets_size}):
            db.ensure(size)
    return 0


def verify_only(args) -> int:
    """Measure the record verification on the cached databases and merge it into the
    results in --out (the rest of the run is kept)."""
    out = Path(args.out)
    report = json.loads((out / "results.json").read_text())
    report["verify"] = {}
    for name in args.databases.split(","):
        db = SqliteDb() if name == "sqlite" else PostgresDb(args.postgres)
        if name == "postgres" and not postgres_reachable(args.postgres):
            continue
        for size in [int(x) for x in (args.sizes if name == "sqlite" or not args.pg_sizes
                                      else args.pg_sizes).split(",")]:
            db.ensure(size)
            v = verify_record(db.fresh_copy(size))
            v["size"] = size
            report["verify"].setdefault(name, []).append(v)
            log(f"verify-record {name} {size}: {v}")
            if isinstance(db, PostgresDb):
                db.drop_run()
    write_report(report, out)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Parse the options and run."""
    p = argparse.ArgumentParser(prog="python3 tasks.py bench", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", default="1000,10000,100000", help="candidates, comma-separated")
    p.add_argument("--pg-sizes", help="sizes on PostgreSQL (default: --sizes)")
    p.add_argument("--databases", default="sqlite,postgres")
    p.add_argument("--postgres", default=os.environ.get("BENCH_POSTGRES_URL", DEFAULT_PG),
                   help="a PostgreSQL server to create selection_bench* databases on")
    p.add_argument("--scenarios", help=f"a subset of {','.join(SCENARIOS)}")
    p.add_argument("--duration", type=int, default=10, help="seconds per scenario")
    p.add_argument("--connections", type=int, default=16)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--memory-runs", type=int, default=3)
    p.add_argument("--no-profile", dest="profile", action="store_false")
    p.add_argument("--no-verify", dest="verify", action="store_false",
                   help="skip the record verification")
    p.add_argument("--out", default=str(BENCH / "results"))
    p.add_argument("--verify-only", action="store_true",
                   help="only measure the record verification; merge into --out's results")
    p.add_argument("--quick", action="store_true",
                   help="only the targets (bench/targets.py), at --targets-size, on SQLite and"
                   " PostgreSQL; written to bench/.data/quick unless --out is given")
    p.add_argument("--targets-size", type=int,
                   help="the size the targets are measured at (10,000 with --quick; the"
                   " largest size of --sizes otherwise)")
    p.add_argument("--seed-only", action="store_true", help="only seed the cached databases")
    args = p.parse_args(argv)
    # The seeding signs the events with the record key the servers and the verification use.
    os.environ["SELECTION_DATA_DIR"] = str(DATA / "run-data")
    if args.quick and args.out == str(BENCH / "results"):
        args.out = str(DATA / "quick")
    if args.targets_size is None:
        args.targets_size = 10_000 if args.quick else max(int(x) for x in args.sizes.split(","))
    if args.seed_only:
        return seed_only(args)
    return verify_only(args) if args.verify_only else run(args)
