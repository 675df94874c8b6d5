"""JSON bodies of HTTP endpoints are checked against a schema before the view runs, with one
refusal shape: 400 {"code", "error"} and nothing done."""

from __future__ import annotations

import json

import pytest
from django.test import RequestFactory
from django.utils import translation

from council import jsoninput

SCHEMA = {"properties": {"page": {"type": "integer"}, "label": {"type": "string"}}, "required": ["page"]}


@jsoninput.json_input(SCHEMA)
def view(request, body):
    from django.http import JsonResponse

    return JsonResponse({"got": body})


def post(raw: bytes):
    with translation.override("en"):
        return view(RequestFactory().post("/", data=raw, content_type="application/json"))


def test_a_body_that_fits_reaches_the_view():
    response = post(json.dumps({"page": 3, "label": "x"}).encode())
    assert response.status_code == 200 and json.loads(response.content) == {"got": {"page": 3, "label": "x"}}


@pytest.mark.parametrize(
    ("raw", "code", "error"),
    [
        (b"{not json", "malformed", "The request is not valid JSON."),
        (b'"\\ud800"', "malformed", "The request is not valid JSON."),  # a lone surrogate
        (b'{"label": "\\ud800", "page": 1}', "malformed", "The request is not valid JSON."),
        (b"\xff\xfe", "malformed", "The request is not valid JSON."),
        (b"[1, 2]", "invalid", "The request is not valid (request)."),
        (b'{"label": "x"}', "invalid", "The request is not valid (request)."),
        (b'{"page": "3"}', "invalid", "The request is not valid (page)."),
    ],
)
def test_a_body_that_does_not_fit_is_refused_before_the_view(raw, code, error):
    response = post(raw)
    assert response.status_code == 400
    assert json.loads(response.content) == {"code": code, "error": error}


def test_the_refusal_is_in_the_users_language():
    with translation.override("ja"):
        response = view(RequestFactory().post("/", data=b'{"page": "3"}', content_type="application/json"))
    assert json.loads(response.content)["error"] == "リクエストの内容が正しくありません（page）。"
