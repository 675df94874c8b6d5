"""What every area's forms share: date and time inputs the browsers' pickers fill, and model form
fields that assume https:// for a web address typed without a scheme."""

from __future__ import annotations

from django import forms
from django.db import models


def https_urls(field: models.Field, **kwargs):
    """Form fields for model fields, with web addresses assumed to be https:// when typed without a scheme."""
    if isinstance(field, models.URLField):
        kwargs.setdefault("assume_scheme", "https")
    return field.formfield(**kwargs)


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kw):
        super().__init__(format="%Y-%m-%d", **kw)


class TimeInput(forms.TimeInput):
    input_type = "time"

    def __init__(self, **kw):
        super().__init__(format="%H:%M", **kw)
