"""Documents fit to print (A4): one base template with the letterhead, page numbers, the
footer that says when, by whom and at which state of the record a page was made, and the
signature and seal blocks a paper form has; the pages fill it from the steps' data.

Jinja2 renders them (autoescaped); every word comes from the catalogue in the request's
language, dates in its long form and times in the service's time zone.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from markupsafe import Markup
from sqlmodel import Session, select

from ..core import i18n
from ..core.i18n import _
from ..core.models import User
from ..record.models import Event

if TYPE_CHECKING:
    from jinja2 import Environment

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


def _css_string(value: Any) -> Markup:
    """A text as a CSS string literal (for the page's margin boxes): quoted and escaped, with
    no `<` left that could end the style element."""
    return Markup(json.dumps(str(value or ""), ensure_ascii=False).replace("<", "\\3c "))


def fmt(value: Any) -> str:
    """A number as people read it: no trailing zeros; a dash for none."""
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.2f}".rstrip("0").rstrip(".")
    return str(value)


@cache
def environment() -> Environment:
    """The templates' environment, made at the first page: Jinja2 is imported then, not by
    every start of a service that may never print one."""
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]),
                      trim_blocks=True, lstrip_blocks=True)
    env.filters["css_string"] = _css_string
    env.globals.update(_=_, label=i18n.label, fmt=fmt)
    return env


@dataclass(frozen=True)
class Made:
    """Who made the page and when: the footer's facts."""

    at: datetime
    by: User | None  # None: a public page


def record_hash(session: Session, *, selection_id: uuid.UUID | None = None,
                subject_id: uuid.UUID | None = None) -> str | None:
    """The hash of the newest event of the subject (or of the selection's whole record):
    the state of the record the page shows."""
    stmt = select(Event.hash)
    stmt = (stmt.where(Event.subject_id == subject_id) if subject_id is not None
            else stmt.where(Event.selection_id == selection_id))
    return session.exec(stmt.order_by(Event.occurred_at.desc(), Event.seq.desc())).first()


def render(template: str, *, made: Made, heading: str, organization: str,
           selection_title: str | None = None, record: str | None = None,
           signatures: list[str] | None = None, seal: str | None = None,
           **context: Any) -> str:
    """A page from its template, with the base's letterhead, footer and signature blocks."""
    who = (made.by.full_name or made.by.username) if made.by else _("the public page")
    footer = _("Made {at} by {who}", at=i18n.format_datetime_local(made.at), who=who)
    if record:
        footer += " · " + _("record {hash}", hash=record[:16])
    title = f"{heading} — {selection_title}" if selection_title else heading
    return environment().get_template(template).render(
        lang=i18n.current(), title=title, heading=heading, organization=organization,
        selection_title=selection_title, letterhead=" · ".join(
            x for x in (organization, selection_title) if x),
        footer_line=footer, record_hash=record, signatures=signatures or [], seal=seal,
        page_of=_("Page "), page_sep=_(" of "), **context)
