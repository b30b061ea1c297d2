"""The machine-checkable requirements of the job description, checked against a profile.

The report is the gate of the qualification pre-review: a candidate with a failed requirement
passes it only as an admin's explicit, reasoned exception (破格; see the workflow's guards).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from ..core import i18n
from ..selection.schemas import EducationLevel


def full_years(since: date, on: date) -> int:
    """Whole years from `since` to `on` (an age, or years of membership)."""
    years = on.year - since.year
    if (on.month, on.day) < (since.month, since.day):
        years -= 1
    return years


def exact_years(since: date, on: date) -> float:
    """Years from `since` to `on`, with a fraction for the part-year, to two decimals."""
    whole = full_years(since, on)
    try:
        anniversary = since.replace(year=since.year + whole)
    except ValueError:  # 29 February
        anniversary = date(since.year + whole, 3, 1)
    return round(whole + (on - anniversary).days / 365.25, 2)


def check(requirements: dict[str, Any], profile: dict[str, Any], on: date, *,
          basis: str = "publicity_end") -> dict[str, Any]:
    """The report as of `on` (the reference date; `basis` says where it comes from): each
    requirement with what it asks (`asked`: an education level's code, or a number) and what
    the profile shows (`shown`, None when not given), and passed. Stored as codes and numbers,
    it reads in each reader's language (`render`)."""
    items = []

    def item(code: str, asked: Any, shown: Any, passed: bool) -> None:
        items.append({"requirement": code, "asked": asked, "shown": shown, "passed": passed})

    min_edu = requirements.get("min_education")
    if min_edu:
        found = profile.get("education")
        ok = found is not None and EducationLevel(found).rank >= EducationLevel(min_edu).rank
        item("min_education", min_edu, found, ok)
    min_party = requirements.get("min_party_years")
    if min_party:
        joined = profile.get("party_joined_on")
        years = exact_years(date.fromisoformat(joined), on) if joined else None
        item("min_party_years", min_party, years, years is not None and years >= min_party)
    max_age = requirements.get("max_age")
    if max_age:
        born = profile.get("birth_date")
        age = full_years(date.fromisoformat(born), on) if born else None
        item("max_age", max_age, age, age is not None and age <= max_age)
    min_work = requirements.get("min_work_years")
    if min_work:
        started = profile.get("work_started_on")
        years = exact_years(date.fromisoformat(started), on) if started else None
        item("min_work_years", min_work, years, years is not None and years >= min_work)
    return {"computed_on": on.isoformat(), "reference": basis, "passed": all(i["passed"] for i in items),
            "items": items}


def _number(value: Any) -> str:
    return f"{value:g}" if isinstance(value, int | float) else str(value)


def _asked(code: str, value: Any, lang: i18n.Lang) -> str:
    if code == "min_education":
        return i18n._("{level} or above", lang,
                      level=i18n.label("EducationLevel", value, lang))
    if code == "max_age":
        return i18n._("≤ {n} years old", lang, n=_number(value))
    return i18n._("≥ {n} years", lang, n=_number(value))


def _shown(code: str, value: Any, lang: i18n.Lang) -> str:
    if value is None:
        return i18n._("not given", lang)
    if code == "min_education":
        return i18n.label("EducationLevel", value, lang) or str(value)
    if code == "max_age":
        return i18n._("{n} years old", lang, n=_number(value))
    return i18n._("{n} years", lang, n=_number(value))


def render_item(item: dict[str, Any], lang: i18n.Lang | None = None) -> dict[str, Any]:
    """One requirement of a report as a person reads it: its label, what it asks and what was
    found, in `lang` (the request's by default). A report stored before the codes were kept
    holds its texts in both languages, or Chinese alone; those are shown as stored."""
    lang = lang or i18n.current()
    code = item["requirement"]
    if "asked" in item:
        return {"requirement": code, "label": i18n.label("requirement", code, lang) or code,
                "required": _asked(code, item["asked"], lang),
                "found": _shown(code, item.get("shown"), lang),
                "passed": bool(item.get("passed"))}
    en = lang == "en"
    return {"requirement": code,
            "label": item.get("label_en", item.get("label")) if en else item.get("label"),
            "required": item.get("required_en", item.get("required")) if en
            else item.get("required"),
            "found": item.get("found_en", item.get("found")) if en else item.get("found"),
            "passed": bool(item.get("passed"))}


def render(report: dict[str, Any] | None, lang: i18n.Lang | None = None) -> dict[str, Any] | None:
    """A stored report as a person reads it, every item in `lang` (`render_item`)."""
    if report is None:
        return None
    return {**report, "items": [render_item(i, lang) for i in report.get("items", [])]}


def failed(report: dict[str, Any] | None, lang: i18n.Lang | None = None) -> list[dict[str, Any]]:
    """The requirements a report shows failed, as a person reads them, each with its code."""
    return [{k: v for k, v in render_item(i, lang).items() if k != "passed"}
            for i in (report or {}).get("items", []) if not i.get("passed")]
