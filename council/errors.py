"""The domain error every service raises when it refuses a change.

It is a ``ValidationError``, so a view can hand it straight to ``form.add_error`` and the
message (already translated into the active language) appears beside the form.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError


class Refused(ValidationError):
    """A service refused a change; nothing was written."""
