"""Factories for tests: they live in ``bench/support/factories.py``, shared with the benchmarks
(which never import the tests)."""

from bench.support.factories import (  # noqa: F401
    PASSWORD,
    make_agenda_item,
    make_body,
    make_council,
    make_membership,
    make_person,
    make_session,
    make_sitting,
    make_small_council,
    make_user,
)
