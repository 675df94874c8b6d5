"""The roll's models moved from the voting app to the attendance app without touching their tables:
rows written before the move are read after it."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from tests.factories import make_body, make_council, make_person, make_session, make_sitting

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]  # migrations render slowly

BEFORE = [("voting", "0001_initial"), ("attendance", None)]


def latest():
    """Every app at its newest migration (later migrations build on the move; a test that left the
    database below them would break every test after it)."""
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    executor.loader.build_graph()
    return executor.loader.project_state([t for t in targets if t[1] is not None]).apps


def test_rows_on_the_roll_survive_the_move_to_the_attendance_app():
    try:
        old = migrate(BEFORE)
        council = make_council()
        body = make_body(council)
        sitting = make_sitting(make_session(council), body)
        person = make_person(council)
        Attendance = old.get_model("voting", "Attendance")
        Attendance.objects.create(sitting_id=sitting.pk, person_id=person.pk, status="late")
        new = migrate(latest())
        moved = new.get_model("attendance", "Attendance")
        assert moved._meta.db_table == "voting_attendance"
        assert list(moved.objects.values_list("person_id", "status")) == [(person.pk, "late")]
    finally:
        migrate(latest())
