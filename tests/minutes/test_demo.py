"""The demo step: a completed sitting gets a full set of minutes, signed and published; idempotent."""

from __future__ import annotations

import io

import pytest

from meetings.minutes import demo
from meetings.minutes.models import Block, Minutes

pytestmark = pytest.mark.django_db


def test_demo_minutes_are_drafted_typed_signed_and_published(recorded):
    out = io.StringIO()
    demo.seed(stdout=out)
    minutes = Minutes.objects.get(sitting=recorded["sitting"])
    assert minutes.state == Minutes.State.PUBLISHED and minutes.pdf_sha256 and minutes.pages >= 2
    assert not minutes.blocks.filter(kind=Block.Kind.SPEECH, text="").exists()
    first = (
        minutes.blocks.filter(kind=Block.Kind.SPEECH, source__startswith="turn:").order_by("position").first()
    )
    assert "会議録署名議員は" in first.text
    assert minutes.signatures.count() == 3
    demo.seed(stdout=out)
    assert Minutes.objects.filter(sitting=recorded["sitting"]).count() == 1
    assert "minutes for 0 completed sittings" in out.getvalue().splitlines()[-1]
