"""Command line: serve, migrate, create-user, openapi, verify-record."""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OPENAPI_PATH = ROOT / "openapi" / "openapi.json"


def _migrate() -> None:
    from .db import get_engine
    from .migrate import upgrade

    upgrade(get_engine())


def cmd_migrate(args: argparse.Namespace) -> int:
    """Bring the database schema to the newest migration."""
    _migrate()
    print("database is at the newest migration")
    return 0


def _bootstrap_admin() -> None:
    from .clock import real_clock
    from .config import get_settings
    from .db import open_session
    from .users import ensure_admin

    settings = get_settings()
    with open_session(write=True) as session:
        generated = ensure_admin(session=session, username=settings.admin_username,
                                 password=settings.admin_password, clock=real_clock())
        session.commit()
    if generated:
        print("=" * 72)
        print(f"Created the first administrator: username '{settings.admin_username}'")
        print(f"Password (shown once, change it or set SELECTION_ADMIN_PASSWORD): {generated}")
        print("=" * 72, flush=True)
    elif settings.admin_password is not None:
        print(f"Administrator '{settings.admin_username}' created from SELECTION_ADMIN_PASSWORD"
              " (or already present)", flush=True)


def cmd_serve(args: argparse.Namespace) -> int:
    """Migrate, create the first admin if there is none, and serve the API with uvicorn."""
    import uvicorn

    from .config import get_settings

    settings = get_settings()
    settings.signing_key()  # fail early (production) or create the dev key before workers fork
    _migrate()
    _bootstrap_admin()
    base = f"http://{args.host}:{args.port}"
    print(f"Serving on {base}  (docs: {base}/docs)")
    print(f"Log in:  curl -s -X POST {base}/api/v1/auth/token -d username="
          f"{settings.admin_username} -d password=…", flush=True)
    uvicorn.run("service.main:app", host=args.host, port=args.port, workers=args.workers,
                log_level=args.log_level, proxy_headers=True)
    return 0


def cmd_create_user(args: argparse.Namespace) -> int:
    """Create a user; the password is read from stdin/prompt, or generated and printed."""
    from pydantic import ValidationError

    from .clock import real_clock
    from .db import open_session
    from .errors import ServiceError
    from .record import SYSTEM
    from .schemas import UserCreate
    from .users import create

    _migrate()
    password = None
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    elif args.prompt and sys.stdin.isatty():
        password = getpass.getpass("Password: ")
    try:
        data = UserCreate(username=args.username, roles=args.role, full_name=args.full_name or "",
                          email=args.email, password=password)
    except ValidationError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    with open_session(write=True) as session:
        try:
            user, generated = create(session=session, data=data, author=SYSTEM,
                                     clock=real_clock())
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


def cmd_verify_record(args: argparse.Namespace) -> int:
    """Verify the event record's hash chains; name the first broken link."""
    from .db import open_session
    from .record import verify

    with open_session() as session:
        count, broken = verify(session)
    if broken:
        print(f"BROKEN after {count} good events: event {broken.event_id} "
              f"({broken.subject_type} {broken.subject_id} #{broken.seq}): {broken.problem}")
        return 1
    print(f"record intact: {count} events verified")
    return 0


def cmd_send_mail(args: argparse.Namespace) -> int:
    """Deliver queued emails over SMTP: once, or in a loop (for when `serve` does not)."""
    import time

    from .config import get_settings
    from .mailer import send_due

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

    p = sub.add_parser("openapi", help=cmd_openapi.__doc__)
    p.add_argument("--output", help="default: openapi/openapi.json")
    p.set_defaults(func=cmd_openapi)

    sub.add_parser("verify-record", help=cmd_verify_record.__doc__).set_defaults(
        func=cmd_verify_record)

    sub.add_parser("diagram", help=cmd_diagram.__doc__).set_defaults(func=cmd_diagram)

    p = sub.add_parser("send-mail", help=cmd_send_mail.__doc__)
    p.add_argument("--once", action="store_true", help="one round, then exit")
    p.set_defaults(func=cmd_send_mail)

    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    raise SystemExit(main())
