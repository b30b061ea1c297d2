"""The message catalogue: every text the service writes for a person exists in zh-CN and en.

The texts are found where the code writes them, not listed here: the problem titles and
details of every error the code raises, the refusal of every guard, the labels of every enum
value of the OpenAPI document, the states and actions of the workflow, the actions written to
the record, and every `_()` call. A text added later without its translation fails here,
named by its msgid and where the code writes it; the fix is an entry in
service/locale/zh_CN/LC_MESSAGES/messages.po (and, for a label, in en/…/messages.po).
"""

from __future__ import annotations

import ast
import json
import pathlib
import re
import string

from service.core import i18n
from service.core.errors import _HTTP_CODES, ServiceError
from service.workflow import MACHINES, engine

SERVICE = pathlib.Path("service")
# Errors whose first argument is a detail for people; the position of the text in helpers.
def _all_subclasses(cls: type) -> list[type]:
    return [cls, *(d for c in cls.__subclasses__() for d in _all_subclasses(c))]


ERRORS = {c.__name__ for c in _all_subclasses(ServiceError)} | {
    c.__name__ for c in vars(engine).values()
    if isinstance(c, type) and issubclass(c, engine.WorkflowError)} | {"LoginsBusy"}
TEXT_AT = {"Refusal": 1, "problem_response": 3, "_none_in": 2, "_some_in": 2, "_": 0,
           "gettext": 0, "invalid": 1, "said": 0}
# Latin words a Chinese text may hold: names of standards and things typed as they are.
ALLOWED_LATIN = {"ETag", "API", "JSON", "UTF", "NUL", "SMTP", "ID", "UUID", "UTC", "CSV",
                 "HTTP", "HTTPS", "OAuth2", "URL", "CORS", "Bearer", "ISO", "YYYY", "MM",
                 "DD", "U", "Idempotency-Key", "If-Match", "true", "false", "SVG", "PDF",
                 "Excel", "xlsx", "A4", "OAuth"}
HTTP_METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE"}
# Enum schemas whose labels live under another context.
CONTEXT_OF_SCHEMA = {"Outcome": "outcome", "OutcomeName": "outcome", "RecordedOutcome": "outcome",
                     "MachineName": "machine", "AssessmentKind": "assessment_kind"}
# Enums of the workflow's states and actions: labelled in the transition table itself
# (test_every_state_and_action_of_the_workflow_is_labelled).
WORKFLOW_ENUMS = {"SelectionState", "CandidateState", "ObjectionState", "SubjectState",
                  "SelectionAction", "CandidateAction", "ObjectionAction", "WorkflowAction",
                  # problem codes are identifiers; a person reads the problem's title and detail
                  "ProblemCode",
                  # so are the kinds of problem the record's verification names; its `problem`
                  # is the text a person reads
                  "BrokenCode",
                  # an event's action: the table's, or the record's own work, whose labels are
                  # the `record_action` entries (test_every_recorded_action_has_labels)
                  "RecordAction"}


def _text(node) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _name(func) -> str | None:
    return func.id if isinstance(func, ast.Name) else (
        func.attr if isinstance(func, ast.Attribute) else None)


def _sources():
    for path in sorted(SERVICE.rglob("*.py")):
        if "migrations" in path.parts or path.name == "__main__.py":
            continue
        yield path, ast.parse(path.read_text(encoding="utf-8"))


fstrings: list[str] = []  # where a text for people is an f-string, which no catalogue can key


def _is_errors(node) -> bool:
    """`errors=[…]`, `errors = […]` or `errors += […]`: the field errors of a problem."""
    if isinstance(node, ast.keyword):
        return node.arg == "errors"
    targets = node.targets if isinstance(node, ast.Assign) else (
        [node.target] if isinstance(node, ast.AugAssign) else [])
    return any(isinstance(t, ast.Name) and t.id == "errors" for t in targets)


def _written_texts() -> dict[str, str]:
    """msgid → where the code writes it: details, refusals, `_()` texts and titles."""
    found: dict[str, str] = {}
    fstrings.clear()
    for path, tree in _sources():
        for node in ast.walk(tree):
            where = f"{path}:{getattr(node, 'lineno', 0)}"
            if isinstance(node, ast.Call):
                name = _name(node.func)
                at = 0 if name in ERRORS else TEXT_AT.get(name or "")
                if at is not None and len(node.args) > at and (t := _text(node.args[at])):
                    found.setdefault(t, where)
                elif at is not None and len(node.args) > at and isinstance(
                        node.args[at], ast.JoinedStr):
                    fstrings.append(where)
                if name == "problem_response" and len(node.args) > 2 and (
                        t := _text(node.args[2])):
                    found.setdefault(t, where)
                for kw in node.keywords:
                    if kw.arg == "title" and (t := _text(kw.value)):
                        found.setdefault(t, where)
            if _is_errors(node):  # field errors given with a problem: {"field": …, "message": …}
                for d in ast.walk(node):
                    keys = [_text(k) for k in d.keys if k is not None] if isinstance(
                        d, ast.Dict) else []
                    if "message" not in keys:
                        continue
                    value = d.values[keys.index("message")]
                    if t := _text(value):
                        found.setdefault(t, f"{path}:{d.lineno}")
                    elif isinstance(value, ast.JoinedStr):
                        fstrings.append(f"{path}:{d.lineno}")
            elif isinstance(node, ast.Assign) and any(
                    isinstance(x, ast.Name) and x.id == "title" for x in node.targets) and (
                    t := _text(node.value)):
                found.setdefault(t, where)
    for path in sorted((SERVICE / "templates").glob("*.html")):  # the printable pages
        for m in re.finditer(r"""_\(\s*("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')""",
                             path.read_text(encoding="utf-8")):
            found.setdefault(ast.literal_eval(m.group(1)), str(path))
    for _, title in _HTTP_CODES.values():
        found.setdefault(title, "service/core/errors.py (_HTTP_CODES)")
    found.pop("Branch Secretary Open Selection (党支部书记公开选拔)", None)  # the API's name
    return found


def _fields(text: str) -> set[str]:
    return {f for _, f, _, _ in string.Formatter().parse(text) if f}


def latin_words(text: str) -> list[str]:
    """Latin words of a Chinese text that are not allowed there: placeholders, `code`,
    request lines (`POST …/x`) and identifiers (with `_`, `.` or `/`) are not words."""
    t = re.sub(r"\{[^}]*\}", " ", text)
    t = re.sub(r"`[^`]*`", " ", t)
    t = re.sub(r"\b(GET|POST|PUT|PATCH|DELETE)\s+\S+", " ", t)
    words = re.findall(r"[A-Za-z][A-Za-z0-9_./:=-]*", t)
    words = [re.sub(r"-?[0-9]+$", "", w.rstrip(".:-")) for w in words]
    return [w for w in words if w not in ALLOWED_LATIN and w not in HTTP_METHODS
            and not re.search(r"[_./]", w)]


def _problems_of(msgid: str, zh: str | None, en: str) -> str | None:
    if not zh:
        return "no zh-CN translation"
    if zh == en:
        return "the zh-CN text is the English one"
    if _fields(zh) != _fields(msgid):
        return f"placeholders differ: {sorted(_fields(zh))} vs {sorted(_fields(msgid))}"
    if bad := latin_words(zh):
        return f"Latin words in the zh-CN text: {bad}"
    return None


def test_the_catalogues_are_read_and_hold_both_languages():
    assert i18n.CATALOGUES["zh-CN"] and i18n.CATALOGUES["en"]
    assert i18n.text("Not found", lang="zh-CN") == "未找到"
    assert i18n.text("Not found", lang="en") == "Not found"
    assert i18n.label("Gender", "female", "zh-CN") == "女"
    assert i18n.label("Gender", "female", "en") == "Female"


def test_every_text_the_code_writes_for_a_person_is_translated():
    """Problem titles and details, guard refusals, `_()` texts: each has a zh-CN text that is
    not the English, with the same placeholders and no stray Latin words."""
    written = _written_texts()
    assert "The publicity period has no end date." in written  # a guard's refusal
    assert "Incorrect username or password." in written  # a problem detail
    assert "Action refused by a rule" in written  # a title
    wrong = {}
    for msgid, where in sorted(written.items(), key=lambda kv: kv[1]):
        why = _problems_of(msgid, i18n.translation(msgid, "zh-CN"), msgid)
        if why:
            wrong[msgid] = f"{where}: {why}"
    assert not wrong, "texts without a proper zh-CN translation:\n" + "\n".join(
        f"  msgid {json.dumps(k, ensure_ascii=False)}  ({v})" for k, v in wrong.items())


def _openapi_enums() -> dict[str, list[str]]:
    doc = json.loads(pathlib.Path("openapi/openapi.json").read_text(encoding="utf-8"))
    return {name: s["enum"] for name, s in doc["components"]["schemas"].items() if "enum" in s}


def test_every_enum_value_of_the_openapi_document_has_labels():
    enums = _openapi_enums()
    assert {"Outcome", "ConflictKind", "JudgedItem", "Role", "Segment"} <= set(enums)
    wrong = []
    for schema, values in enums.items():
        if schema in WORKFLOW_ENUMS:
            continue
        context = CONTEXT_OF_SCHEMA.get(schema, schema)
        for value in values:
            zh = i18n.translation(value, "zh-CN", context)
            en = i18n.translation(value, "en", context)
            why = ("no English label" if not en else _problems_of(value, zh, en))
            if why:
                wrong.append(f"  msgctxt {context!r} msgid {value!r}: {why}")
    assert not wrong, "enum values without proper labels:\n" + "\n".join(wrong)


def test_every_webhook_event_type_is_described_in_both_languages():
    from service.webhooks.schemas import EVENT_TYPES

    wrong = [f"  msgctxt 'webhook_event_type' msgid {t!r}: {why}" for t in EVENT_TYPES
             if (why := ("no English description"
                         if not i18n.translation(t, "en", "webhook_event_type")
                         else _problems_of(t, i18n.translation(t, "zh-CN", "webhook_event_type"),
                                           i18n.translation(t, "en", "webhook_event_type"))))]
    assert not wrong, "webhook event types without descriptions:\n" + "\n".join(wrong)


def test_every_label_reads_alike_in_both_languages():
    """Every label of the catalogues (an entry with a msgctxt: an email's subject and body, a
    column, a field, a webhook type…) exists in both languages with the same placeholders,
    its Chinese not the English and without stray Latin words; pydantic's own messages
    (`validation`) have no English entry: pydantic's English is used."""
    labels = {lang: {k: v for k, v in i18n.CATALOGUES[lang].items()
                     if k[0] and k[0] != "validation"} for lang in ("zh-CN", "en")}
    zh, en = labels["zh-CN"], labels["en"]
    assert ("email_body", "claim_code") in zh and ("webhook_event_type", "outcome.decided") in zh
    wrong = [f"  msgctxt {k[0]!r} msgid {k[1]!r}: only in {'zh-CN' if k in zh else 'en'}"
             for k in sorted(set(zh) ^ set(en))]
    for k in sorted(set(zh) & set(en)):
        if zh[k] == en[k] and k[0] != "field":  # a field's English name is its identifier
            wrong.append(f"  msgctxt {k[0]!r} msgid {k[1]!r}: the zh-CN text is the English one")
        elif _fields(zh[k]) != _fields(en[k]):
            wrong.append(f"  msgctxt {k[0]!r} msgid {k[1]!r}: placeholders differ:"
                         f" {sorted(_fields(zh[k]))} vs {sorted(_fields(en[k]))}")
        elif bad := latin_words(zh[k]):
            wrong.append(f"  msgctxt {k[0]!r} msgid {k[1]!r}: Latin words in zh-CN: {bad}")
    assert not wrong, "labels that do not read alike:\n" + "\n".join(wrong)


def test_every_state_and_action_of_the_workflow_is_labelled():
    wrong = []
    for m in MACHINES:
        for name, zh, en in [(s.name, s.label_zh, s.label_en) for s in m.states] + [
                (t.action, t.label_zh, t.label_en) for t in m.transitions]:
            if not en or (why := _problems_of(zh, zh, en)):
                wrong.append(f"  {m.name}.{name}: {why if en else 'no English label'}")
    assert not wrong, "workflow labels:\n" + "\n".join(wrong)


def _recorded_actions_in_source() -> set[str]:
    """Action names the service writes to the record outside the transition table: literal
    `action="…"` arguments and assignments, the helpers that pass one on, and the follow-up
    kinds (`record_<kind>`)."""
    from service.followup.schemas import FollowUpKind

    helpers = {"_candidate_event", "_record", "_store", "_selection_event"}
    found: set[str | None] = {f"record_{k.value}" for k in FollowUpKind}
    for _, tree in _sources():
        for node in ast.walk(tree):
            value = None
            if isinstance(node, ast.keyword) and node.arg == "action" or isinstance(node, ast.Assign) and any(
                    isinstance(x, ast.Name) and x.id == "action" for x in node.targets):
                value = node.value
            if value is not None:
                found.add(_text(value))
            elif isinstance(node, ast.Call) and _name(node.func) in helpers:
                for arg in node.args:
                    found.add(_text(arg))
                    if isinstance(arg, ast.IfExp):
                        found |= {_text(arg.body), _text(arg.orelse)}
    return {a for a in found if a and a.isidentifier() and a.islower()}


def test_every_recorded_action_has_labels():
    transitions = {t.action for m in MACHINES for t in m.transitions}
    recorded = _recorded_actions_in_source() - transitions
    assert {"nominate", "submit_score_sheet", "record_party_lesson", "notification_failed",
            "declare_no_conflict", "set_clock"} <= recorded
    wrong = [f"  msgctxt 'record_action' msgid {a!r}: {why}" for a in sorted(recorded)
             if (why := ("no English label" if not i18n.translation(a, "en", "record_action")
                         else _problems_of(a, i18n.translation(a, "zh-CN", "record_action"),
                                           i18n.translation(a, "en", "record_action"))))]
    assert not wrong, "recorded actions without labels:\n" + "\n".join(wrong)
    assert i18n.action_label("candidate", "nominate", "en") == "Nominated by a body"
    assert i18n.action_label("candidate", "nominate", "zh-CN") == "推荐"


def test_every_validator_speaks_through_the_catalogue():
    """A validator refuses with `invalid(code, "English msgid", …)` (service/core/schemas.py),
    which the answer reads from the catalogue in the reader's language; a bare ValueError or
    PydanticCustomError would reach a Chinese reader as 值无效：<English>."""
    bare = [f"  {path}:{node.lineno}" for path, tree in _sources()
            if path.name == "schemas.py" for node in ast.walk(tree)
            if isinstance(node, ast.Call) and _name(node.func) in (
                "ValueError", "PydanticCustomError", "AssertionError")
            # invalid() itself makes the PydanticCustomError
            and not (path.parts[-2:] == ("core", "schemas.py")
                     and _name(node.func) == "PydanticCustomError")]
    assert not bare, ("validators raising a text outside the catalogue (use invalid()):\n"
                      + "\n".join(bare))
    assert "{born} makes the person younger than {age}" in _written_texts()


def test_no_text_for_people_is_an_f_string():
    """An error's detail or a refusal written as an f-string cannot be looked up: it is the
    English template with `{name}` placeholders and `params=` (or `_("…", name=…)`)."""
    _written_texts()
    assert not fstrings, ("f-strings where the catalogue needs a template and params=:\n"
                          + "\n".join(f"  {w}" for w in fstrings))


def test_no_text_is_kept_beside_its_translation_in_the_code():
    """`i18n.pick("中文", "English")` keeps a text outside the catalogue: each use is listed
    so it moves into messages.po."""
    uses = [f"  {path}:{node.lineno}" for path, tree in _sources()
            if path.name != "i18n.py" for node in ast.walk(tree)
            if isinstance(node, ast.Call) and _name(node.func) == "pick"]
    assert not uses, "texts kept in the code instead of the catalogue:\n" + "\n".join(uses)


def test_the_latin_check_tells_words_from_names():
    assert latin_words("公示期至 {end}（含当日）") == []
    assert latin_words("请先登录（POST /api/v1/auth/token）；ETag 不符") == []
    assert latin_words("状态：confirmed") == ["confirmed"]
    assert latin_words("请提供 supersede_reason") == []


def test_the_catalogues_read_as_babel_reads_them(tmp_path):
    """The service's own reading of the .po files (no Babel at start) gives what Babel's
    `read_po` gives, entry for entry and in order: the shipped catalogues, and an entry of
    every form they may take (context, continued and escaped lines, fuzzy, no blank line)."""
    sample = tmp_path / "messages.po"
    sample.write_text(r'''# header
#, fuzzy
msgid ""
msgstr ""
"Language: en\n"

#: a.py:1
#, python-format, fuzzy
msgid "not translated yet"
msgstr "x"

msgctxt "Outcome"
msgid "passed"
msgstr "通过"
msgid "multi"
msgstr ""
"line one\n"
"say \"hi\"\t\\ end"
#, fuzzy
msgid "fz"
msgstr "y"
msgid "empty"
msgstr ""
''', encoding="utf-8")
    paths = [*SERVICE.glob("locale/*/LC_MESSAGES/messages.po"), sample]
    assert len(paths) == 3
    for path in paths:
        assert list(i18n.read_catalogue(path).items()) == list(
            i18n._read_with_babel(path).items()), path
    assert i18n.read_catalogue(sample) == {("Outcome", "passed"): "通过",
                                           (None, "multi"): 'line one\nsay "hi"\t\\ end'}
