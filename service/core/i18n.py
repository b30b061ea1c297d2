"""Languages: Chinese (zh-CN, the default) and English, from one message catalogue.

Every text the service writes for a person comes from the gettext catalogues in
`service/locale/<zh_CN|en>/LC_MESSAGES/messages.po`, read when the module is imported (no
compile step, so a clean clone and the container image work as they are).

Two kinds of entry:
- sentences (problem details, refusals, warnings, report texts): the msgid is the English
  sentence with `{name}` placeholders — readable in the code, and an English fallback if a
  translation were missing; `text(msgid, params)` / `_()` translate and fill them;
- labels of identifiers (enum values, outcomes, recorded actions, field names): the msgid is
  the identifier and the msgctxt says what it names (`Outcome`, `record_action`, `field`);
  `label(context, value)` gives it in either language.

Machine fields (codes, enum values, JSON paths) are the same in every language. The language
of the current request lives in a context variable set by a middleware.
"""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Mapping
from contextvars import ContextVar
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date, format_datetime
from babel.lists import format_list

from ..workflow import MACHINES

Lang = Literal["zh-CN", "en"]
DEFAULT: Lang = "zh-CN"
SUPPORTED: tuple[Lang, ...] = ("zh-CN", "en")
LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
BABEL_LOCALE: dict[str, str] = {"zh-CN": "zh_CN", "en": "en"}
# The time zone a person reads times in, unless a setting says otherwise (config.py).
DEFAULT_TIME_ZONE = "Asia/Shanghai"

lang_var: ContextVar[Lang] = ContextVar("lang", default=DEFAULT)
tz_var: ContextVar[str] = ContextVar("time_zone", default=DEFAULT_TIME_ZONE)


_PO_ESCAPE = re.compile(r"\\([\\trn\"abfv])")
_PO_ESCAPES = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v"}


def _po_string(quoted: str) -> str:
    """One quoted line of a .po file as the text it stands for (Babel's unescaping)."""
    inner = quoted[1:-1]
    if "\\" not in inner:
        return inner
    return _PO_ESCAPE.sub(lambda m: _PO_ESCAPES.get(m.group(1), m.group(1)), inner)


def read_catalogue(path: Path) -> dict[tuple[str | None, str], str]:
    """A .po file's translated entries, (msgctxt, msgid) → msgstr, fuzzy ones and the header
    left out: what Babel's `read_po` gives of the form these files have (entries of msgctxt,
    msgid and msgstr, each perhaps continued on quoted lines, with comment lines), read in a
    tenth of its time. Any other form (plurals, obsolete entries) is handed to Babel."""
    out: dict[tuple[str | None, str], str] = {}
    entry: dict[str, list[str]] = {}
    fuzzy = False
    current: list[str] | None = None

    def end() -> None:
        nonlocal fuzzy, current
        if "msgid" in entry:
            msgid, msgstr = "".join(entry["msgid"]), "".join(entry.get("msgstr", ()))
            context = "".join(entry["msgctxt"]) if "msgctxt" in entry else None
            if msgid and msgstr and not fuzzy:
                out[(context, msgid)] = msgstr
        entry.clear()
        fuzzy, current = False, None

    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line:
            end()
        elif line.startswith("#~") or line.startswith("msgid_plural") or line.startswith(
                "msgstr["):
            return _read_with_babel(path)
        elif line.startswith("#"):
            if "msgid" in entry and current is entry.get("msgstr"):
                end()  # a comment after a msgstr begins the next entry
            if line.startswith("#,") and "fuzzy" in (f.strip() for f in line[2:].split(",")):
                fuzzy = True
        elif line.startswith('"'):
            if current is None:
                return _read_with_babel(path)
            current.append(_po_string(line))
        else:
            keyword, _, rest = line.partition(" ")
            if keyword not in ("msgctxt", "msgid", "msgstr"):
                return _read_with_babel(path)
            if keyword in entry or (keyword != "msgstr" and "msgstr" in entry):
                end()  # a new entry without a blank line or comment before it
            current = entry[keyword] = [_po_string(rest.strip())]
    end()
    return out


def _read_with_babel(path: Path) -> dict[tuple[str | None, str], str]:
    from babel.messages.pofile import read_po

    with path.open("rb") as f:
        catalog = read_po(f)
    return {(m.context, m.id): m.string for m in catalog
            if m.id and isinstance(m.id, str) and m.string and not m.fuzzy}


def _load(lang: Lang) -> dict[tuple[str | None, str], str]:
    return read_catalogue(LOCALE_DIR / BABEL_LOCALE[lang] / "LC_MESSAGES" / "messages.po")


CATALOGUES: dict[Lang, dict[tuple[str | None, str], str]] = {lang: _load(lang)
                                                             for lang in SUPPORTED}


def as_lang(value: str | None) -> Lang:
    """`zh`, `zh-CN`, `en`… as one of the supported languages (the default otherwise)."""
    return "en" if (value or "").lower().startswith("en") else DEFAULT

def negotiate(header: str | None) -> Lang:
    """The best supported language for an `Accept-Language` header (RFC 9110 §12.5.4).

    `zh`, `zh-CN`, `zh-Hans…` choose Chinese; `en`, `en-US`… English; `*` the default.
    Ties keep the header's order; anything unparseable or unsupported gives the default.
    """
    best: tuple[float, int, Lang] | None = None
    for pos, part in enumerate((header or "").split(",")):
        tag, _, params = part.strip().partition(";")
        tag = tag.strip().lower()
        q = 1.0
        for p in params.split(";"):
            key, _, value = p.strip().partition("=")
            if key.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if not tag or not 0 < q <= 1:
            continue
        primary = tag.split("-")[0]
        lang: Lang | None = ("zh-CN" if primary == "zh" else "en" if primary == "en"
                             else DEFAULT if tag == "*" else None)
        if lang is not None and (best is None or (q, -pos) > (best[0], -best[1])):
            best = (q, pos, lang)
    return best[2] if best else DEFAULT


def current() -> Lang:
    """The language of the request being served (the default outside a request)."""
    return lang_var.get()


def translation(msgid: str, lang: Lang | None = None, context: str | None = None) -> str | None:
    """The catalogue's entry for `msgid` in a language, or None when it has none."""
    return CATALOGUES[lang or current()].get((context, msgid))


# Parameters that list alternatives ("runs from: A or B"); other lists are joined with "and".
_ALTERNATIVES = frozenset({"states", "sources", "roles"})


def _value(v: Any, lang: Lang, key: str = "") -> Any:
    """A parameter as a person reads it: dates in the long form, times in the selection's
    time zone, lists joined the way the language joins them."""
    loc = BABEL_LOCALE[lang]
    if isinstance(v, _dt.datetime):
        return format_datetime_local(v, lang)
    if isinstance(v, _dt.date):
        return format_date(v, "long", locale=loc)
    if isinstance(v, Mapping):  # counts by state: "2 nominated, 1 applicant"
        return _value([text("{count} {state}", {"count": n, "state": s}, lang)
                       for s, n in v.items()], lang)
    if isinstance(v, (list, tuple, set, frozenset)):
        items = [str(_value(x, lang)) for x in v]
        style = "or" if key in _ALTERNATIVES else "standard"
        return format_list(items, style=style, locale=loc) if items else "—"
    return v


def text(msgid: str, params: Mapping[str, Any] | None = None, lang: Lang | None = None) -> str:
    """A sentence in the language asked for (the current request's by default), its
    `{placeholders}` filled; the English msgid itself when no translation exists."""
    lang = lang or current()
    found = translation(msgid, lang) or msgid
    if not params:
        return found
    values = {k: _value(v, lang, k) for k, v in params.items()}
    try:
        return found.format(**values)
    except (KeyError, IndexError, ValueError):
        return msgid.format(**values)


def _(msgid: str, /, lang: Lang | None = None, **params: Any) -> str:
    """`text()` with the placeholders given as keywords: `_("Selection {id} not found.", id=…)`."""
    return text(msgid, params, lang)


gettext = _


def msgids(context: str) -> list[str]:
    """Every identifier the catalogue labels in a context (e.g. `record_action`), in order."""
    return [key for ctx, key in CATALOGUES[DEFAULT] if ctx == context and key]


_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def said(msgid: str, /, **params: Any) -> dict[str, Any]:
    """A text the service writes into the record or a row for people, kept as its msgid and
    parameters (JSON) so that each reader reads it in their own language (`read`)."""
    from pydantic_core import to_jsonable_python

    return {"msgid": msgid, "params": to_jsonable_python(params)}


def _is_said(value: Any) -> bool:
    return isinstance(value, Mapping) and isinstance(value.get("msgid"), str)


def read(value: Any, lang: Lang | None = None) -> str:
    """A stored text as a person reads it: a `said` text in `lang` (ISO dates in the long
    form), any other text as it was written."""
    if _is_said(value):
        params = {k: _dt.date.fromisoformat(v) if isinstance(v, str) and _ISO_DAY.fullmatch(v)
                  else state_label("candidate", v, lang) if k == "candidate_state"
                  else read(v, lang) if _is_said(v)  # a text within the text
                  else [read(x, lang) for x in v] if isinstance(v, list) and v
                  and all(_is_said(x) for x in v)
                  else v for k, v in (value.get("params") or {}).items()}
        return text(value["msgid"], params, lang)
    return "" if value is None else str(value)


def label(context: str, value: str | None, lang: Lang | None = None) -> str | None:
    """The label of an identifier (`label("Outcome", "reserve")` → 储备人选); the English
    label when the language has none, the identifier itself when neither has."""
    if value is None:
        return None
    return (translation(value, lang, context) or translation(value, "en", context)
            or value)


def pick(zh: str, en: str, lang: Lang | None = None) -> str:
    """Deprecated: a text kept beside its translation in the code, outside the catalogue.
    tests/core/test_catalogue.py lists every use, so each moves into the catalogue."""
    return en if (lang or current()) == "en" else zh


# ---------------------------------------------------------------- times and dates
def time_zone() -> ZoneInfo:
    """The zone a person reads times in (the setting `time_zone`, Asia/Shanghai by default)."""
    return ZoneInfo(tz_var.get())


def format_datetime_local(value: _dt.datetime | None, lang: Lang | None = None,
                          fmt: str = "medium") -> str:
    """A moment as a person reads it: in the selection's time zone, in the language's form
    (zh-CN: 2026年10月13日 14:30:00)."""
    if value is None:
        return "—"
    lang = lang or current()
    if value.tzinfo is None:
        value = value.replace(tzinfo=_dt.UTC)
    local = value.astimezone(time_zone())
    if lang == "zh-CN":
        return (format_date(local, "long", locale="zh_CN") + " "
                + local.strftime("%H:%M:%S" if fmt != "short" else "%H:%M"))
    return format_datetime(local, fmt, tzinfo=time_zone(), locale=BABEL_LOCALE[lang])


def format_date_long(value: _dt.date | None, lang: Lang | None = None) -> str:
    """A date in the language's long form (zh-CN: 2026年10月13日; en: October 13, 2026)."""
    if value is None:
        return "—"
    return format_date(value, "long", locale=BABEL_LOCALE[lang or current()])


def format_month(value: _dt.date | None, lang: Lang | None = None) -> str:
    """A month as a notice writes it (zh-CN: 1988年5月; en: May 1988)."""
    if value is None:
        return "—"
    return format_date(value, "yMMMM" if (lang or current()) == "en" else "y年M月",
                       locale=BABEL_LOCALE[lang or current()])


def locale(lang: Lang | None = None) -> Locale:
    """Babel's locale for a language."""
    return Locale.parse(BABEL_LOCALE[lang or current()])


# ---------------------------------------------------------------- labels of the workflow
_STATES = {(m.name, s.name): (s.label_zh, s.label_en) for m in MACHINES for s in m.states}
_ACTIONS = {(m.name, t.action): (t.label_zh, t.label_en) for m in MACHINES
            for t in m.transitions}


def state_label(machine: str, state: str | None, lang: Lang | None = None) -> str | None:
    """A state's label (the transition table holds the workflow's own labels); the
    identifier itself when the table does not know it."""
    if state is None:
        return None
    zh, en = _STATES.get((machine, state), (state, state))
    return en if (lang or current()) == "en" else zh


def action_label(machine: str, action: str, lang: Lang | None = None) -> str:
    """An action's label: the machine's transition, else the record's own work (the
    catalogue's `record_action`); an unknown identifier is its own label."""
    pair = _ACTIONS.get((machine, action))
    if pair:
        return pair[1] if (lang or current()) == "en" else pair[0]
    return label("record_action", action, lang) or action


def _state_of(machine: str | None, state: Any) -> Any:
    names = [machine] if machine else []
    for name in [*names, *(m.name for m in MACHINES)]:
        if (name, state) in _STATES:
            return _STATES[(name, state)][0]
    return state


def _action_of(machine: str | None, action: Any) -> Any:
    names = [machine] if machine else []
    for name in [*names, *(m.name for m in MACHINES)]:
        if (name, action) in _ACTIONS:
            return _ACTIONS[(name, action)][0]
    return label("record_action", action, "zh-CN") if isinstance(action, str) else action


def refusal_text(msgid: str, params: Mapping[str, Any] | None = None,
                 lang: Lang | None = None) -> str:
    """A refusal (of the workflow or a service) in a language. In Chinese the machines,
    states, actions, roles and things it names read as their labels; English keeps their
    identifiers, which integrators match on."""
    lang = lang or current()
    if lang == "en" or not params:
        return text(msgid, params, lang)
    machine = params.get("machine")
    out: dict[str, Any] = {}
    for key, v in params.items():
        many = isinstance(v, (list, tuple))
        if key == "machine":
            out[key] = label("machine", v, lang)
        elif key == "action":
            out[key] = _action_of(machine, v)
        elif key in ("state", "current", "state2"):
            out[key] = _state_of(machine, v)
        elif key == "what":
            out[key] = label("noun", v, lang)
        elif key in ("role", "capacity"):
            out[key] = label("Role", v, lang)
        elif key in ("sources", "states"):
            out[key] = [_state_of(machine, s) for s in v] if many else _state_of(machine, v)
        elif key == "roles" and many:
            out[key] = [label("Role", r, lang) for r in v]
        elif key == "listed" and isinstance(v, Mapping):
            out[key] = {_state_of(machine, s): n for s, n in v.items()}
        else:
            out[key] = v
    return text(msgid, out, lang)


# Every outcome a candidate is told (their labels: the catalogue's `outcome` context): the
# committee's four, then what else ends or changes a candidacy, and the objector's receipt.
OUTCOMES: tuple[str, ...] = (
    "appointed", "reserve", "not_qualified", "postponed", "lapsed", "declined", "withdrawn",
    "confirmed", "dismissed", "revoked", "appointment_withdrawn", "reserve_expired", "reserve_used", "backfilled",
    "not_elected", "not_approved", "objection_ack")


def outcome_label(outcome: str | None, lang: Lang | None = None) -> str | None:
    """An outcome's label (上岗使用 / 储备人选 / 不符合 / 缓议)."""
    return label("outcome", outcome, lang)


def title(english: str, lang: Lang | None = None) -> str:
    """A problem title in the current language (English titles are the msgids)."""
    return text(english, None, lang)


def from_query(query_string: bytes) -> Lang | None:
    """The language a link asks for with `?lang=zh-CN` / `?lang=en` (for pages a person opens
    in a browser, which cannot send a header); None when it asks for none or another."""
    for part in query_string.split(b"&"):
        key, _, value = part.partition(b"=")
        if key == b"lang":
            tag = value.decode("latin-1").lower()
            return "en" if tag.startswith("en") else "zh-CN" if tag.startswith("zh") else None
    return None


class LanguageMiddleware:
    """Chooses the language from `?lang=`, else `Accept-Language`; answers with
    `Content-Language` and `Vary: Accept-Language`. Sets the time zone times are read in."""

    def __init__(self, app, time_zone: str = DEFAULT_TIME_ZONE):
        self.app = app
        self.time_zone = time_zone

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        header = dict(scope.get("headers") or []).get(b"accept-language", b"")
        lang = (from_query(scope.get("query_string") or b"")
                or negotiate(header.decode("latin-1")))
        token = lang_var.set(lang)
        tz_token = tz_var.set(self.time_zone)

        async def send_with_language(message):
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", [])
                           if k.lower() != b"content-language"]
                message["headers"] = [*headers, (b"content-language", lang.encode()),
                                      (b"vary", b"Accept-Language")]
            await send(message)

        try:
            await self.app(scope, receive, send_with_language)
        finally:
            lang_var.reset(token)
            tz_var.reset(tz_token)
