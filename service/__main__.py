"""Command line: serve, migrate, create-user, openapi, verify-record, checkpoint, backup, …"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OPENAPI_PATH = ROOT / "openapi" / "openapi.json"


class SchemaNotCurrent(RuntimeError):
    """The database's schema is behind the code's, and this role may not migrate it."""


def _migrate() -> None:
    """Bring the schema to the newest migration, as the owner role when
    SELECTION_MIGRATION_DATABASE_URL is set. Without it, a schema that is current already is
    left as it is (a role that may only use the tables can serve it), and a schema that is
    behind is migrated with the service's own URL, or refused with what to do."""
    from sqlalchemy.exc import DBAPIError

    from .config import get_settings
    from .core.db import get_engine, make_engine
    from .core.migrate import current_revision, head_revision, is_current, upgrade

    settings = get_settings()
    if settings.migration_database_url:
        owner = make_engine(settings, settings.effective_migration_url)
        try:
            if not is_current(owner):
                upgrade(owner)
        finally:
            owner.dispose()
        return
    engine = get_engine()
    if is_current(engine):  # the usual start: one SELECT, and Alembic is not even imported
        return
    try:
        if current_revision(engine) == head_revision():
            return
    except DBAPIError:
        pass  # no schema, or no right to read it: the upgrade below says which
    try:
        upgrade(engine)
    except DBAPIError as e:
        raise SchemaNotCurrent(
            f"The database schema is not at the newest migration ({head_revision()}) and this"
            f" database role cannot migrate it ({type(e.orig).__name__ if e.orig else e}). Run"
            " `python -m service migrate` as the owner role, or set"
            " SELECTION_MIGRATION_DATABASE_URL to the owner's URL (see README, Reliability"
            " and security).") from None


def cmd_migrate(args: argparse.Namespace) -> int:
    """Bring the database schema to the newest migration (as SELECTION_MIGRATION_DATABASE_URL
    when set, the owner role)."""
    try:
        _migrate()
    except SchemaNotCurrent as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print("database is at the newest migration")
    return 0


def _bootstrap_admin() -> list[str]:
    """Create the first administrator when there is none; the lines the banner shows about
    them. SELECTION_ADMIN_PASSWORD is used only to create them: when the administrator
    exists already, a password given there is not applied, and the lines say so."""
    from .config import get_settings
    from .core.clock import real_clock
    from .core.db import open_session
    from .core.security import verify_password
    from .users.service import by_username, ensure_admin

    settings = get_settings()
    name, wanted = settings.admin_username, settings.admin_password
    with open_session() as session:
        existing = by_username(session=session, username=name)
    made, generated = ensure_admin(username=name, password=wanted,
                                   full_name=settings.admin_full_name, clock=real_clock())
    created = made and existing is None
    reset = (f"to set a password: printf '%s\\n' 'new passphrase' | python -m service"
             f" reset-password {name} --password-stdin")
    if generated:
        return [f"Created the first administrator '{name}'. Its password, shown only this once:",
                f"    {generated}",
                f"Keep it, or {reset}"]
    if created:
        return [f"Created the first administrator '{name}' with the password in"
                " SELECTION_ADMIN_PASSWORD."]
    if wanted is None:
        return []
    if existing is not None and verify_password(wanted, existing.password_hash):
        return [f"Administrator '{name}' exists; its password is the one in"
                " SELECTION_ADMIN_PASSWORD."]
    who = f"the administrator '{name}' exists" if existing is not None else (
        f"there is no user '{name}' but other administrators exist")
    return [f"NOTE: SELECTION_ADMIN_PASSWORD was NOT applied: {who}, and that password is"
            " used only when the first administrator is created.",
            f"      Log in with the current password, or {reset}"]


def _data_dir_problem(settings) -> str | None:
    """Why the service cannot write its data folder, if it cannot (a bind mount owned by
    another user, typically)."""
    import os

    folder = settings.data_dir.resolve()
    probe = folder
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    if os.access(probe, os.W_OK | os.X_OK):
        return None
    uid = os.getuid() if hasattr(os, "getuid") else "?"
    return (f"The data folder {folder} is not writable by this process (user id {uid}). On a"
            f" bind mount, give it to that user (`sudo chown -R {uid} ./data`) or run the"
            " container as the folder's owner (`docker run --user \"$(id -u):$(id -g)\" …`);"
            " or set SELECTION_DATA_DIR to a writable folder.")


def _where_data_lives(settings) -> str:
    from .core.db import sqlite_file

    if settings.is_sqlite:
        try:
            return f"SQLite file {sqlite_file(settings.effective_database_url).resolve()}"
        except ValueError:
            return settings.effective_database_url
    return _shown(settings.effective_database_url)


def _announce_when_ready(url: str, lines: list[str]) -> None:
    """Print the banner once the server answers /readyz, so that it comes after the
    installer's and uvicorn's own start-up lines, the last thing before serving."""
    import threading
    import time
    import urllib.request

    def wait_then_print() -> None:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{url}/readyz", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            time.sleep(0.1)
        print("\n".join(lines), flush=True)

    threading.Thread(target=wait_then_print, name="banner", daemon=True).start()


def cmd_serve(args: argparse.Namespace) -> int:
    """Migrate, create the first admin if there is none, and serve the API with uvicorn."""
    from .config import MissingSecretKey, get_settings

    settings = get_settings()
    problem = _data_dir_problem(settings)
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    from .record import keys as record_keys

    try:
        settings.signing_key()  # fail early (production), or make the dev key before forking
        record_keys.keyring()  # likewise the record's MAC key
    except (MissingSecretKey, record_keys.MissingRecordKey) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    try:
        _migrate()
    except SchemaNotCurrent as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    admin_lines = _bootstrap_admin()
    local = {"0.0.0.0": "127.0.0.1", "::": "[::1]", "": "127.0.0.1"}.get(args.host, args.host)
    base = f"http://{local}:{args.port}"
    rule = "=" * 72
    _announce_when_ready(base, [
        rule,
        f"Serving on {base}  ({settings.environment} mode)",
        f"Interactive docs: {base}/docs  (ReDoc: {base}/redoc)",
        f"Data: {_where_data_lives(settings)}",
        *admin_lines,
        f"Log in:  curl -s -X POST {base}/api/v1/auth/token -d username="
        f"{settings.admin_username} -d password=…",
        rule,
    ])
    _serve(args)
    return 0


def _serve(args: argparse.Namespace) -> None:
    """Serve the app: imported and its routes built once, here; with several workers, each
    is a fork of this process (sharing what was imported, nothing imported again), which
    makes its own database connections and runs uvicorn on the socket bound here. A worker
    that dies is forked again; SIGINT or SIGTERM stops them all."""
    import contextlib
    import logging
    import os
    import signal
    import threading

    import uvicorn

    from .config import get_settings
    from .core.db import get_engine
    from .main import app, in_process_senders, warm_routes
    from .record.service import checkpoint_round

    def first_checkpoint() -> None:
        """The first automatic checkpoint, when there is none yet: beside the workers, not
        before them (at 100k candidates it reads every chain's head)."""
        try:
            checkpoint_round(get_settings())
        except Exception:  # the workers' checkpoint thread tries again
            logging.getLogger(__name__).exception("the first automatic checkpoint failed")

    warm_routes(app)
    get_engine().dispose()  # the connections the start made are not carried into workers
    config = uvicorn.Config(app, host=args.host, port=args.port, log_level=args.log_level,
                            # X-Forwarded-For is believed by the app itself, from
                            # SELECTION_TRUSTED_PROXIES only (service/core/forwarded.py);
                            # uvicorn's own rule (127.0.0.1) is off.
                            proxy_headers=False,
                            # The API has no WebSocket route: no WebSocket protocol is loaded
                            # (the `websockets` package took a quarter of a second of each
                            # worker's start); an Upgrade request is answered as plain HTTP.
                            ws="none")
    if args.workers <= 1:
        threading.Thread(target=first_checkpoint, name="first-checkpoint", daemon=True).start()
        uvicorn.Server(config).run()
        return
    # What each worker would import and prepare as it starts, done once here and shared by
    # the forks: uvicorn's protocol and event loop (uvloop), the lifespan's senders.
    config.load()
    config.get_loop_factory()
    in_process_senders(get_settings())
    sock = config.bind_socket()
    workers: set[int] = set()
    stopping = False

    def fork() -> None:
        pid = os.fork()
        if pid:
            workers.add(pid)
            return
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        get_engine().dispose(close=False)  # a pool of its own, whatever the parent holds
        code = 0
        try:
            uvicorn.Server(config).run(sockets=[sock])
        except BaseException:
            code = 1
        finally:
            os._exit(code)

    def stop(signum, _frame) -> None:
        nonlocal stopping
        stopping = True
        for pid in list(workers):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    for _ in range(args.workers):
        fork()
    threading.Thread(target=first_checkpoint, name="first-checkpoint", daemon=True).start()
    while workers:
        try:
            pid, _status = os.wait()
        except ChildProcessError:
            break
        except InterruptedError:
            continue
        workers.discard(pid)
        if not stopping:
            print(f"worker {pid} ended; starting another", file=sys.stderr, flush=True)
            fork()
    sock.close()


def _read_password(args: argparse.Namespace) -> str | None:
    """The password from the first line of stdin, a terminal prompt, or None (generate)."""
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    if args.prompt and sys.stdin.isatty():
        return getpass.getpass("Password: ")
    return None


def cmd_reset_password(args: argparse.Namespace) -> int:
    """Set a user's password (recorded as an event); their sessions end and their failed
    logins are forgotten. Reads it from stdin or a prompt, or generates and prints one."""
    from pydantic import ValidationError

    from .core.clock import real_clock
    from .core.errors import ServiceError
    from .users.service import reset_password

    _migrate()
    password = _read_password(args)
    try:
        generated = reset_password(username=args.username, password=password,
                                   clock=real_clock())
    except ValidationError as e:
        print(f"error: {e.errors()[0]['msg']}", file=sys.stderr)
        return 2
    except ServiceError as e:
        print(f"error: {e.detail}", file=sys.stderr)
        return 1
    print(f"password of {args.username} reset; their current sessions have ended")
    if generated:
        print(f"password: {generated}")
    return 0


def cmd_generate_secret_key(args: argparse.Namespace) -> int:
    """Write a new random signing key into the data folder (once: an existing key is kept,
    since replacing it ends every session), and the record's first MAC key when it has none."""
    from .config import get_settings, write_secret_key
    from .record import keys as record_keys

    settings = get_settings()
    path = settings.secret_key_file
    if path.exists() and not args.force:
        print(f"{path} exists already; pass --force to replace it (every session ends)",
              file=sys.stderr)
        return 2
    problem = _data_dir_problem(settings)
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    write_secret_key(path)
    print(f"wrote a new signing key to {path} (readable by its owner only)")
    records = record_keys.key_file(settings)
    if not records.exists() and not settings.record_keys:
        key_id = record_keys.add_key(records)
        print(f"wrote the record's MAC key '{key_id}' to {records} (readable by its owner only;"
              " never remove a key from it: `rotate-record-key` adds the next one)")
    return 0


def cmd_create_user(args: argparse.Namespace) -> int:
    """Create a user; the password is read from stdin/prompt, or generated and printed."""
    from pydantic import ValidationError

    from .core.clock import real_clock
    from .core.db import open_session
    from .core.errors import ServiceError
    from .record.service import SYSTEM
    from .users.schemas import UserCreate
    from .users.service import create, new_password

    _migrate()
    password = _read_password(args)
    try:
        data = UserCreate(username=args.username, roles=args.role, full_name=args.full_name or "",
                          email=args.email, password=password)
    except ValidationError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    password_hash, generated = new_password(data)  # hashed before the transaction
    with open_session(write=True) as session:
        try:
            user = create(session=session, data=data, password_hash=password_hash,
                          author=SYSTEM, clock=real_clock())
        except ServiceError as e:
            print(f"error: {e.detail}", file=sys.stderr)
            return 1
        session.commit()
    print(f"created user {user.username} ({', '.join(user.roles)}) id={user.id}")
    if generated:
        print(f"password: {generated}")
    return 0


def cmd_openapi(args: argparse.Namespace) -> int:
    """Write the OpenAPI document the app serves to openapi/openapi.json."""
    from .main import app

    out = Path(args.output) if args.output else OPENAPI_PATH
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(app.openapi(), indent=2, ensure_ascii=False) + "\n")
    print(f"wrote {out}")
    return 0


def record_report(anchors=None):
    """The whole record verified as `verify-record` does it (chains, the steps' deciding rows
    and states); the benchmark measures this same call."""
    from . import facts  # noqa: F401  (registers the steps' deciding rows and states)
    from .core.db import open_session
    from .record.service import verify_report

    with open_session() as session:
        return verify_report(session, anchors=anchors)


def cmd_verify_record(args: argparse.Namespace) -> int:
    """Verify the event record's hash chains; name the first broken link. With --checkpoint,
    also find events removed since that checkpoint was taken."""
    from .record.keys import MissingRecordKey
    from .record.service import anchors_of, vouching

    anchors, checkpoint_path = None, getattr(args, "checkpoint", None)
    if checkpoint_path:
        try:
            anchors = anchors_of(json.loads(Path(checkpoint_path).read_text(encoding="utf-8")))
        except (OSError, ValueError) as e:
            print(f"cannot use the checkpoint {checkpoint_path}: {e}", file=sys.stderr)
            return 2
    try:
        report = record_report(anchors)
    except MissingRecordKey as e:
        print(f"cannot verify without the record's keys: {e}", file=sys.stderr)
        return 2
    broken, count = report.broken, report.events
    if broken:
        where = f"event {broken.event_id} " if broken.event_id else ""
        print(f"BROKEN after {count} good events: {where}"
              f"({broken.subject_type} {broken.subject_id} #{broken.seq}): {broken.problem}")
        return 1
    against = f", every chain reaches its head in {checkpoint_path}" if anchors else ""
    print(f"record intact: {count} events verified{against}")
    print(f"  {vouching(report, 'en')}")
    return 0


def cmd_rotate_record_key(args: argparse.Namespace) -> int:
    """Add a new MAC key to the record's key file and make it the one that signs new events;
    the older keys stay in the file to verify older events. Restart the service after it."""
    from .config import get_settings
    from .record import keys as record_keys

    settings = get_settings()
    problem = _data_dir_problem(settings)
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    path = record_keys.key_file(settings)
    key_id = record_keys.add_key(path)
    print(f"added the record key '{key_id}' to {path}; it signs new events once the service"
          " restarts (older keys stay there and verify older events)")
    if settings.record_keys:
        print("note: SELECTION_RECORD_KEYS is set and its last key still signs; add the new"
              " key there instead, or remove the variable", file=sys.stderr)
    return 0


def cmd_grant_app_role(args: argparse.Namespace) -> int:
    """PostgreSQL: let ROLE use the service's tables without owning them, and only read and
    append the record (no UPDATE, DELETE or TRUNCATE of events and checkpoints). Run as the
    owner of the tables (with --print, only print the SQL)."""
    from sqlalchemy import text

    from .config import get_settings
    from .core.db import make_engine
    from .record.grants import app_role_sql

    settings = get_settings()
    try:
        statements = app_role_sql(args.role, password=args.password)
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if args.print:
        print(";\n".join(statements) + ";")
        return 0
    if settings.is_sqlite:
        print("error: grant-app-role is for PostgreSQL; SQLite has no roles (its triggers"
              " refuse UPDATE and DELETE of events)", file=sys.stderr)
        return 2
    engine = make_engine(settings, settings.effective_migration_url)
    try:
        with engine.begin() as conn:
            for statement in statements:
                conn.execute(text(statement))
    finally:
        engine.dispose()
    print(f"role {args.role} may now use the service's tables and only read and append the"
          " record; serve with it in SELECTION_DATABASE_URL and the owner in"
          " SELECTION_MIGRATION_DATABASE_URL")
    return 0


def cmd_checkpoint(args: argparse.Namespace) -> int:
    """Write a checkpoint of the record (every chain's newest hash, and a digest) to keep
    outside the database; `verify-record --checkpoint` then finds removed events."""
    from .core.clock import real_clock
    from .core.db import open_session
    from .record.service import checkpoint

    path = Path(args.path)
    if path.exists() and not args.force:
        print(f"{path} exists; pass --force to overwrite it", file=sys.stderr)
        return 2
    with open_session() as session:
        document = checkpoint(session, real_clock().real_now)
    path.write_text(json.dumps(document, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"checkpoint written to {path}: {document['chains']} chains, {document['events']}"
          f" events, digest {document['digest']}")
    return 0


def _libpq(url: str) -> tuple[str, dict[str, str]]:
    """A SQLAlchemy postgresql+psycopg:// URL as libpq takes it, and the environment for the
    PostgreSQL client tools (the password goes in PGPASSWORD, not on the command line)."""
    import os
    from urllib.parse import quote

    from sqlalchemy.engine import make_url

    u = make_url(url)
    host = u.host or ""
    netloc = quote(u.username, safe="") + "@" if u.username else ""
    netloc += f"[{host}]" if ":" in host else host
    netloc += f":{u.port}" if u.port else ""
    query = "&".join(f"{quote(k, safe='')}={quote(v if isinstance(v, str) else ','.join(v), safe='')}"
                     for k, v in u.query.items())
    libpq = f"postgresql://{netloc}/{quote(u.database or '', safe='')}" + (f"?{query}" if query else "")
    env = dict(os.environ)
    if u.password is not None:
        env["PGPASSWORD"] = u.password
    return libpq, env


def _shown(url: str) -> str:
    """A database URL fit to print (no password)."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def _tables_with_rows(engine) -> list[str]:
    """The tables holding at least one row (Alembic's own excepted)."""
    from sqlalchemy import inspect, text

    with engine.connect() as conn:
        names = [t for t in inspect(conn).get_table_names() if t != "alembic_version"]
        return [t for t in names
                if conn.execute(text(f'SELECT 1 FROM "{t}" LIMIT 1')).first() is not None]


def cmd_backup(args: argparse.Namespace) -> int:
    """Back the database up to a file, consistently while the server runs."""
    import os
    import shutil
    import sqlite3
    import subprocess

    from sqlalchemy import text

    from .config import get_settings
    from .core.db import get_engine, sqlite_file

    settings = get_settings()
    url = settings.effective_database_url
    out = Path(args.path)
    if out.exists() and not args.force:
        print(f"error: {out} exists; choose another path or pass --force to overwrite it",
              file=sys.stderr)
        return 2
    if not out.parent.is_dir():
        print(f"error: directory {out.parent} does not exist", file=sys.stderr)
        return 2
    partial = out.with_name(out.name + ".partial")  # the old backup stays until the new is whole
    partial.unlink(missing_ok=True)

    if settings.is_sqlite:
        source = sqlite_file(url)
        if not source.is_file():
            print(f"error: there is no database at {source} to back up", file=sys.stderr)
            return 2
        src = sqlite3.connect(source, timeout=settings.sqlite_busy_timeout_ms / 1000)
        dst = sqlite3.connect(partial)
        try:
            src.execute(f"PRAGMA busy_timeout={int(settings.sqlite_busy_timeout_ms)}")
            src.backup(dst)  # the online backup API: one consistent snapshot, writers may go on
            dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
            has_record = dst.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'event'").fetchone()
            events = dst.execute("SELECT count(*) FROM event").fetchone()[0] if has_record else None
        except sqlite3.Error as e:
            dst.close()
            partial.unlink(missing_ok=True)
            print(f"error: backup of {source} failed: {e}", file=sys.stderr)
            return 1
        finally:
            src.close()
        dst.close()
        kind = f"SQLite backup of {source}"
    else:
        pg_dump = shutil.which("pg_dump")
        if not pg_dump:
            print("error: pg_dump is not on PATH; install the PostgreSQL client tools "
                  "(e.g. apt-get install postgresql-client), of the server's major version or "
                  "newer", file=sys.stderr)
            return 2
        libpq, env = _libpq(url)
        # pg_dump works from one snapshot; export it from a transaction that also counts the
        # events, so the count printed is the count in the file.
        with get_engine().connect().execution_options(
                isolation_level="REPEATABLE READ") as conn:
            snapshot = conn.execute(text("SELECT pg_export_snapshot()")).scalar_one()
            has_record = conn.execute(text("SELECT to_regclass('event')")).scalar() is not None
            events = (conn.execute(text("SELECT count(*) FROM event")).scalar_one()
                      if has_record else None)
            done = subprocess.run(
                [pg_dump, "--format=custom", f"--snapshot={snapshot}", "--file", str(partial),
                 libpq], env=env)
            conn.rollback()
        if done.returncode != 0:
            partial.unlink(missing_ok=True)
            print(f"error: pg_dump failed (exit {done.returncode})", file=sys.stderr)
            return 1
        kind = f"pg_dump custom archive of {_shown(url)}"
    os.replace(partial, out)
    record = "no event record (the database has no schema yet)" if events is None else (
        f"{events} events")
    print(f"wrote {out} ({kind}, {out.stat().st_size} bytes): {record}")
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    """Restore a backup into the configured database, then verify the record."""
    import shutil
    import sqlite3
    import subprocess

    from .config import get_settings
    from .core.db import get_engine, make_engine, sqlite_file
    from .core.migrate import current_revision, head_revision

    settings = get_settings()
    url = settings.effective_migration_url  # replacing tables is the owner's work
    backup = Path(args.path)
    if not backup.is_file():
        print(f"error: there is no backup at {backup}", file=sys.stderr)
        return 2
    engine = get_engine() if url == settings.effective_database_url else make_engine(
        settings, url)
    if not args.force:
        filled = _tables_with_rows(engine)
        if filled:
            print(f"error: the database {_shown(url)} already holds data (in "
                  f"{', '.join(filled)}); restoring replaces all of it: pass --force to do so",
                  file=sys.stderr)
            return 2
    engine.dispose()  # no pooled connection of ours in the way while the data is replaced

    if settings.is_sqlite:
        target = sqlite_file(url)
        try:
            src = sqlite3.connect(f"{backup.resolve().as_uri()}?mode=ro", uri=True)
            dst = sqlite3.connect(target, timeout=settings.sqlite_busy_timeout_ms / 1000)
            try:
                src.execute("SELECT count(*) FROM sqlite_master").fetchone()  # is it SQLite?
                src.backup(dst)  # replaces the target's pages; open connections see the new data
            finally:
                src.close()
                dst.close()
        except sqlite3.Error as e:
            print(f"error: restoring {backup} into {target} failed: {e}", file=sys.stderr)
            return 1
    else:
        pg_restore = shutil.which("pg_restore")
        if not pg_restore:
            print("error: pg_restore is not on PATH; install the PostgreSQL client tools "
                  "(e.g. apt-get install postgresql-client), of the dump's major version or "
                  "newer", file=sys.stderr)
            return 2
        libpq, env = _libpq(url)
        # One transaction: a restore that fails half-way leaves the database as it was.
        done = subprocess.run(
            [pg_restore, "--clean", "--if-exists", "--no-owner", "--single-transaction",
             "--dbname", libpq, str(backup)], env=env)
        if done.returncode != 0:
            print(f"error: pg_restore failed (exit {done.returncode}); the database is unchanged",
                  file=sys.stderr)
            return 1
    print(f"restored {backup} into {_shown(url)}")
    revision, head = current_revision(engine), head_revision()
    if revision != head:
        print(f"schema is at revision {revision}; `python -m service migrate` brings it to {head}")
        print("then `python -m service verify-record` checks the record (this version verifies"
              " the newest schema's record only)")
        return 0
    return cmd_verify_record(args)


def cmd_send_mail(args: argparse.Namespace) -> int:
    """Deliver queued emails over SMTP: once, or in a loop (for when `serve` does not)."""
    import time

    from .config import get_settings
    from .outbox.mailer import send_due

    settings = get_settings()
    if not settings.smtp_host:
        print("error: SELECTION_SMTP_HOST is not set; nothing can be sent", file=sys.stderr)
        return 2
    while True:
        sent = send_due(settings)
        if args.once:
            print(f"sent {sent} message(s)")
            return 0
        time.sleep(settings.mail_poll_seconds)


def cmd_send_webhooks(args: argparse.Namespace) -> int:
    """Deliver queued webhook messages: one round, or in a loop (for when `serve` does not)."""
    import time

    from .config import get_settings
    from .webhooks.sender import send_due

    settings = get_settings()
    while True:
        delivered = send_due(settings)
        if args.once:
            print(f"delivered {delivered} webhook message(s)")
            return 0
        time.sleep(settings.webhook_poll_seconds)


def cmd_diagram(args: argparse.Namespace) -> int:
    """Print both state machines as Mermaid diagrams (as README embeds them)."""
    from .workflow import WORKFLOW
    from .workflow.diagram import mermaid

    for m in WORKFLOW.machines.values():
        print(f"```mermaid\n{mermaid(m)}\n```\n")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point."""
    from .workflow.roles import ROLES

    parser = argparse.ArgumentParser(prog="python -m service", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("serve", help=cmd_serve.__doc__)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--log-level", default="info")
    p.set_defaults(func=cmd_serve)

    sub.add_parser("migrate", help=cmd_migrate.__doc__).set_defaults(func=cmd_migrate)

    p = sub.add_parser("create-user", help=cmd_create_user.__doc__)
    p.add_argument("username")
    p.add_argument("--role", action="extend", nargs="+", required=True, choices=ROLES,
                   help="a role; repeat for several")
    p.add_argument("--full-name")
    p.add_argument("--email")
    p.add_argument("--password-stdin", action="store_true",
                   help="read the password from the first line of stdin")
    p.add_argument("--prompt", action="store_true", help="ask for the password at a terminal")
    p.set_defaults(func=cmd_create_user)

    p = sub.add_parser("reset-password", help=cmd_reset_password.__doc__)
    p.add_argument("username")
    p.add_argument("--password-stdin", action="store_true",
                   help="read the password from the first line of stdin")
    p.add_argument("--prompt", action="store_true", help="ask for the password at a terminal")
    p.set_defaults(func=cmd_reset_password)

    p = sub.add_parser("generate-secret-key", help=cmd_generate_secret_key.__doc__)
    p.add_argument("--force", action="store_true", help="replace an existing key")
    p.set_defaults(func=cmd_generate_secret_key)

    p = sub.add_parser("openapi", help=cmd_openapi.__doc__)
    p.add_argument("--output", help="default: openapi/openapi.json")
    p.set_defaults(func=cmd_openapi)

    p = sub.add_parser("verify-record", help=cmd_verify_record.__doc__)
    p.add_argument("--checkpoint", help="a file `checkpoint` wrote: also check that every"
                   " chain still reaches the head it had then")
    p.set_defaults(func=cmd_verify_record)

    p = sub.add_parser("rotate-record-key", help=cmd_rotate_record_key.__doc__)
    p.set_defaults(func=cmd_rotate_record_key)

    p = sub.add_parser("grant-app-role", help=cmd_grant_app_role.__doc__)
    p.add_argument("role", help="the PostgreSQL role the service runs as")
    p.add_argument("--password", help="create the role (LOGIN) with this password when it"
                   " does not exist")
    p.add_argument("--print", action="store_true", help="print the SQL, do nothing")
    p.set_defaults(func=cmd_grant_app_role)

    p = sub.add_parser("checkpoint", help=cmd_checkpoint.__doc__)
    p.add_argument("path", help="the JSON file to write")
    p.add_argument("--force", action="store_true", help="overwrite an existing file")
    p.set_defaults(func=cmd_checkpoint)

    sub.add_parser("diagram", help=cmd_diagram.__doc__).set_defaults(func=cmd_diagram)

    p = sub.add_parser("backup", help=cmd_backup.__doc__)
    p.add_argument("path", help="the backup file to write (SQLite: a database file; "
                   "PostgreSQL: a pg_dump custom archive)")
    p.add_argument("--force", action="store_true", help="overwrite an existing file")
    p.set_defaults(func=cmd_backup)

    p = sub.add_parser("restore", help=cmd_restore.__doc__)
    p.add_argument("path", help="a file `backup` wrote")
    p.add_argument("--checkpoint", help="also check the restored record against a checkpoint"
                   " (an older backup lacks events the checkpoint saw)")
    p.add_argument("--force", action="store_true",
                   help="replace a database that already holds data")
    p.set_defaults(func=cmd_restore)

    p = sub.add_parser("send-mail", help=cmd_send_mail.__doc__)
    p.add_argument("--once", action="store_true", help="one round, then exit")
    p.set_defaults(func=cmd_send_mail)

    p = sub.add_parser("send-webhooks", help=cmd_send_webhooks.__doc__)
    p.add_argument("--once", action="store_true", help="one round, then exit")
    p.set_defaults(func=cmd_send_webhooks)

    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    raise SystemExit(main())
