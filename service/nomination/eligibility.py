"""The machine-checkable requirements of the job description, checked against a profile.

The report is the gate of the qualification pre-review: a candidate with a failed requirement
passes it only as an admin's explicit, reasoned exception (破格; see the workflow's guards).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from ..selection.schemas import EducationLevel

EDUCATION_LABELS = {
    "junior_secondary": "初中及以下", "senior_secondary": "高中/中专", "junior_college": "大专",
    "bachelor": "本科", "master": "硕士研究生", "doctorate": "博士研究生",
}
EDUCATION_EN = {"junior_secondary": "Junior secondary or below",
                "senior_secondary": "Senior secondary", "junior_college": "Junior college",
                "bachelor": "Bachelor", "master": "Master", "doctorate": "Doctorate"}
GENDERS = {"male": ("男", "Male"), "female": ("女", "Female")}


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


# Each machine-checked requirement's name, in Chinese and English, by its code.
REQUIREMENT_LABELS = {
    "min_education": ("最低学历", "Minimum education"), "min_party_years": ("党龄", "Years of party membership"),
    "max_age": ("年龄", "Age"), "min_work_years": ("工作年限", "Years of work"),
}


def check(requirements: dict[str, Any], profile: dict[str, Any], on: date, *,
          basis: str = "publicity_end") -> dict[str, Any]:
    """A readable report as of `on` (the reference date; `basis` says where it comes from):
    each requirement with what is required, what was found, and passed."""
    items = []

    def item(code: str, required: tuple[str, str], found: tuple[str, str] | None,
             passed: bool) -> None:
        zh, en = REQUIREMENT_LABELS[code]
        items.append({"requirement": code, "label": zh, "required": required[0],
                      "found": found[0] if found else "未填写", "passed": passed,
                      "label_en": en, "required_en": required[1],
                      "found_en": found[1] if found else "not given"})

    min_edu = requirements.get("min_education")
    if min_edu:
        found = profile.get("education")
        ok = found is not None and EducationLevel(found).rank >= EducationLevel(min_edu).rank
        item("min_education", (f"{EDUCATION_LABELS[min_edu]}及以上", f"{min_edu} or above"),
             (EDUCATION_LABELS.get(found, found), found) if found else None, ok)
    min_party = requirements.get("min_party_years")
    if min_party:
        joined = profile.get("party_joined_on")
        years = exact_years(date.fromisoformat(joined), on) if joined else None
        item("min_party_years", (f"≥ {min_party:g} 年", f"≥ {min_party:g} years"),
             (f"{years:g} 年", f"{years:g} years") if years is not None else None,
             years is not None and years >= min_party)
    max_age = requirements.get("max_age")
    if max_age:
        born = profile.get("birth_date")
        age = full_years(date.fromisoformat(born), on) if born else None
        item("max_age", (f"≤ {max_age} 岁", f"≤ {max_age} years old"),
             (f"{age} 岁", f"{age} years old") if age is not None else None,
             age is not None and age <= max_age)
    min_work = requirements.get("min_work_years")
    if min_work:
        started = profile.get("work_started_on")
        years = exact_years(date.fromisoformat(started), on) if started else None
        item("min_work_years", (f"≥ {min_work:g} 年", f"≥ {min_work:g} years"),
             (f"{years:g} 年", f"{years:g} years") if years is not None else None,
             years is not None and years >= min_work)
    return {"computed_on": on.isoformat(), "reference": basis, "passed": all(i["passed"] for i in items),
            "items": items}
