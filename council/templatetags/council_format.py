"""Template filters for dates: the Japanese era (令和8年11月27日) in Japanese, a plain date in English."""

from __future__ import annotations

import datetime

from django import template
from django.utils import formats, timezone
from django.utils.translation import get_language

from council.formats import era_date

register = template.Library()

WEEKDAYS_JA = "月火水木金土日"


@register.filter
def meeting_date(value: datetime.date | None) -> str:
    """令和8年11月27日(金) in Japanese; Friday, 27 November 2026 in English."""
    if not value:
        return ""
    if isinstance(value, datetime.datetime):
        value = value.date()
    if (get_language() or "ja").startswith("ja"):
        return f"{era_date(value)}({WEEKDAYS_JA[value.weekday()]})"
    return value.strftime("%A, %-d %B %Y")


@register.filter
def meeting_time(value: datetime.time | None) -> str:
    if not value:
        return ""
    if (get_language() or "ja").startswith("ja"):
        return f"{value.hour}時{value.minute:02d}分" if value.minute else f"{value.hour}時"
    return formats.time_format(value, "H:i")


@register.filter
def meeting_datetime(value: datetime.datetime | None) -> str:
    """令和8年12月2日(水) 14:05 in Japanese (local time); 2 Dec 2026 14:05 in English."""
    if not value:
        return ""
    if timezone.is_aware(value):
        value = timezone.localtime(value)
    if (get_language() or "ja").startswith("ja"):
        return f"{meeting_date(value)} {value:%H:%M}"
    return value.strftime("%-d %b %Y %H:%M")
