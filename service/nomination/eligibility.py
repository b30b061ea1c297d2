"""The machine-checkable requirements of the job description, checked against a profile.

The report informs the qualification pre-review; it eliminates nobody by itself.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from ..selection.schemas import EducationLevel

EDUCATION_LABELS = {
    "junior_secondary": "初中及以下", "senior_secondary": "高中/中专", "junior_college": "大专",
    "bachelor": "本科", "master": "硕士研究生", "doctorate": "博士研究生",
}


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


def check(requirements: dict[str, Any], profile: dict[str, Any], on: date) -> dict[str, Any]:
    """A readable report: each requirement with what is required, what was found, and passed."""
    items = []
    min_edu = requirements.get("min_education")
    if min_edu:
        found = profile.get("education")
        ok = found is not None and EducationLevel(found).rank >= EducationLevel(min_edu).rank
        items.append({"requirement": "min_education", "label": "最低学历",
                      "required": f"{EDUCATION_LABELS[min_edu]}及以上", "found":
                      EDUCATION_LABELS.get(found, "未填写") if found else "未填写", "passed": ok})
    min_party = requirements.get("min_party_years")
    if min_party:
        joined = profile.get("party_joined_on")
        years = exact_years(date.fromisoformat(joined), on) if joined else None
        items.append({"requirement": "min_party_years", "label": "党龄",
                      "required": f"≥ {min_party:g} 年", "found": f"{years:g} 年"
                      if years is not None else "未填写",
                      "passed": years is not None and years >= min_party})
    max_age = requirements.get("max_age")
    if max_age:
        born = profile.get("birth_date")
        age = full_years(date.fromisoformat(born), on) if born else None
        items.append({"requirement": "max_age", "label": "年龄", "required": f"≤ {max_age} 岁",
                      "found": f"{age} 岁" if age is not None else "未填写",
                      "passed": age is not None and age <= max_age})
    min_work = requirements.get("min_work_years")
    if min_work:
        started = profile.get("work_started_on")
        years = exact_years(date.fromisoformat(started), on) if started else None
        items.append({"requirement": "min_work_years", "label": "工作年限",
                      "required": f"≥ {min_work:g} 年", "found": f"{years:g} 年"
                      if years is not None else "未填写",
                      "passed": years is not None and years >= min_work})
    return {"computed_on": on.isoformat(), "passed": all(i["passed"] for i in items),
            "items": items}
