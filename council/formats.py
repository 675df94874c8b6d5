"""Japanese era dates (和暦): 令和8年11月27日. Reiwa began on 2019-05-01."""

from __future__ import annotations

import datetime

ERAS = [
    (datetime.date(2019, 5, 1), "令和"),
    (datetime.date(1989, 1, 8), "平成"),
    (datetime.date(1926, 12, 25), "昭和"),
]


def _era(day: datetime.date) -> tuple[str, int]:
    for start, name in ERAS:
        if day >= start:
            return name, day.year - start.year + 1
    raise ValueError("dates before 昭和 are not supported")


def era_year(year: int) -> str:
    """The era year of a calendar year's end (令和8年 for 2026); 元年 for the first."""
    name, number = _era(datetime.date(year, 12, 31))
    return f"{name}{'元' if number == 1 else number}年"


def era_date(day: datetime.date | datetime.datetime) -> str:
    if isinstance(day, datetime.datetime):
        day = day.date()
    name, number = _era(day)
    return f"{name}{'元' if number == 1 else number}年{day.month}月{day.day}日"
