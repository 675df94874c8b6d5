"""The annotated copy: page-relative coordinates land in the right place, whatever the page rotation."""

import io

import pikepdf
import pytest

from documents.annotations.export import _PageFrame, annotated_pdf
from documents.annotations.models import Annotation
from tests.annotations.helpers import add_version, make_document, make_pdf, response_body

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "rotate, top_left, top_right, bottom_left",
    [
        (0, (0, 842), (595, 842), (0, 0)),
        (90, (0, 0), (0, 842), (595, 0)),
        (180, (595, 0), (0, 0), (595, 842)),
        (270, (595, 842), (595, 0), (0, 842)),
    ],
)
def test_annotation_export_maps_display_corners_through_rotation(rotate, top_left, top_right, bottom_left):
    pdf = pikepdf.open(io.BytesIO(make_pdf(1, rotate=rotate)))
    frame = _PageFrame(pdf.pages[0])
    assert frame.point(0, 0) == pytest.approx(top_left)
    assert frame.point(1, 0) == pytest.approx(top_right)
    assert frame.point(0, 1) == pytest.approx(bottom_left)


def test_annotation_export_draws_strokes_highlights_and_notes(org):
    document = make_document(org["council"], org["plenary"], pages=2)
    version = document.current_version
    own = [
        Annotation(
            page=1,
            kind="pen",
            colour="#1565c0",
            geometry={"points": [[0.1, 0.1, 0.5], [0.5, 0.5, 1.0]], "width": 0.003},
        ),
        Annotation(
            page=1,
            kind="highlighter",
            colour="#fbc02d",
            geometry={"points": [[0.2, 0.3, 0.5], [0.8, 0.3, 0.5]], "width": 0.02},
        ),
        Annotation(page=2, kind="note", colour="#d32f2f", geometry={"x": 0.5, "y": 0.5}, text="第2条を確認"),
    ]
    out = pikepdf.open(io.BytesIO(annotated_pdf(version=version, annotations=own)))
    first = b"".join(c.read_bytes() for c in out.pages[0].obj.Contents)
    assert b"0.082 0.396 0.753 RG" in first  # the blue pen
    assert b"/CouncilHL gs" in first and float(out.pages[0].obj.Resources.ExtGState.CouncilHL.CA) == 0.35
    assert first.startswith(b"q") and b"f\nQ\n" in first  # the page's own drawing is isolated
    note = out.pages[1].obj.Annots[0]
    assert note.Subtype == "/Text" and str(note.Contents) == "第2条を確認"
    assert "/Annots" not in out.pages[0].obj
    assert len(out.pages) == 2


def test_annotation_export_of_replaced_document_uses_current_version(org):
    from django.test import Client
    from django.urls import reverse

    from documents.annotations import services
    from tests.factories import PASSWORD

    member = org["members"][4].user
    document = make_document(org["council"], org["plenary"], pages=1)
    old = document.current_version
    services.annotations_sync(
        member=member,
        changes=[
            {
                "client_id": "7c1e3a52-52a4-4b8f-9d7f-0c6f3b1f2a10",
                "version": old.pk,
                "page": 1,
                "kind": "note",
                "geometry": {"x": 0.5, "y": 0.5},
                "text": "carried",
            }
        ],
    )
    new = add_version(document, pages=1)
    services.carry_forward(old=old, new=new, unchanged_pages={1: 1})
    from documents.annotations import jobs

    export = jobs.export_start(member=member, document=document)
    assert export.version == new
    jobs.run_export(export.pk)
    client = Client()
    client.login(username=member.username, password=PASSWORD)
    response = client.get(reverse("documents:annotations:export_file", kwargs={"pk": export.pk}))
    assert response["Content-Disposition"] == f'attachment; filename="annotated-{document.pk}-v2.pdf"'
    with pikepdf.open(io.BytesIO(response_body(response))) as pdf:
        assert str(pdf.pages[0].obj.Annots[0].Contents) == "carried"
