"""The roll's models move from the voting app to the attendance app, keeping their tables."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

MOVED = [
    "attendance",
    "attendancechange",
    "attendancesuggestion",
    "exclusion",
    "identitycheck",
    "remoteattendancerequest",
]


def _relabel(apps, source: str, target: str) -> None:
    """Keep the content types (and so the admin permissions and log) of the moved models."""
    ContentType = apps.get_model("contenttypes", "ContentType")
    for model in MOVED:
        if not ContentType.objects.filter(app_label=target, model=model).exists():
            ContentType.objects.filter(app_label=source, model=model).update(app_label=target)


def move_content_types(apps, schema_editor):
    _relabel(apps, "voting", "attendance")


def move_content_types_back(apps, schema_editor):
    _relabel(apps, "attendance", "voting")


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("voting", "0001_initial"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("council", "0002_verbose_names"),
        ("meetings", "0004_verbose_names"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            # The tables stay where they are (voting_*); only Django's idea of their app changes.
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name="Attendance",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        (
                            "role",
                            models.CharField(
                                choices=[
                                    ("member", "Member"),
                                    ("official", "Official attending to explain"),
                                    ("secretariat", "Secretariat staff"),
                                ],
                                default="member",
                                max_length=20,
                                verbose_name="role",
                            ),
                        ),
                        (
                            "status",
                            models.CharField(
                                choices=[
                                    ("present_room", "Present in the room"),
                                    ("present_online", "Present online"),
                                    ("absent", "Absent"),
                                    ("late", "Late (遅参)"),
                                    ("left", "Left (早退)"),
                                ],
                                default="absent",
                                max_length=20,
                                verbose_name="status",
                            ),
                        ),
                        (
                            "absence_reason",
                            models.CharField(
                                blank=True,
                                choices=[
                                    ("", "Not recorded"),
                                    ("official_business", "Official business (公務)"),
                                    ("illness", "Illness (病気)"),
                                    ("childbirth", "Childbirth (出産)"),
                                    ("care", "Nursing or care (育児・看護・介護)"),
                                    ("other", "Other"),
                                ],
                                default="",
                                max_length=20,
                                verbose_name="reason for absence",
                            ),
                        ),
                        ("note", models.CharField(blank=True, max_length=200, verbose_name="note")),
                        (
                            "arrived_at",
                            models.DateTimeField(blank=True, null=True, verbose_name="arrived at"),
                        ),
                        ("left_at", models.DateTimeField(blank=True, null=True, verbose_name="left at")),
                        (
                            "updated_at",
                            models.DateTimeField(
                                default=django.utils.timezone.now, verbose_name="updated at"
                            ),
                        ),
                        (
                            "person",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="attendances",
                                to="council.person",
                            ),
                        ),
                        (
                            "sitting",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="attendances",
                                to="meetings.sitting",
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "attendance",
                        "verbose_name_plural": "attendances",
                        "db_table": "voting_attendance",
                        "ordering": ["sitting", "role", "person__seat_number", "person__id"],
                    },
                ),
                migrations.CreateModel(
                    name="AttendanceChange",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        (
                            "status",
                            models.CharField(
                                choices=[
                                    ("present_room", "Present in the room"),
                                    ("present_online", "Present online"),
                                    ("absent", "Absent"),
                                    ("late", "Late (遅参)"),
                                    ("left", "Left (早退)"),
                                ],
                                max_length=20,
                            ),
                        ),
                        ("absence_reason", models.CharField(blank=True, default="", max_length=20)),
                        ("at", models.DateTimeField(default=django.utils.timezone.now)),
                        (
                            "source",
                            models.CharField(
                                blank=True, help_text="clerk, check-in, disconnect, …", max_length=30
                            ),
                        ),
                        (
                            "attendance",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="changes",
                                to="attendance.attendance",
                            ),
                        ),
                        (
                            "by",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "attendance change",
                        "verbose_name_plural": "attendance changes",
                        "db_table": "voting_attendancechange",
                        "ordering": ["at", "id"],
                    },
                ),
                migrations.CreateModel(
                    name="AttendanceSuggestion",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("display_name", models.CharField(max_length=100)),
                        (
                            "event",
                            models.CharField(
                                choices=[
                                    ("joined", "Joined the video call"),
                                    ("left", "Left the video call"),
                                ],
                                max_length=10,
                            ),
                        ),
                        ("at", models.DateTimeField(default=django.utils.timezone.now)),
                        (
                            "state",
                            models.CharField(
                                choices=[
                                    ("pending", "Pending"),
                                    ("accepted", "Accepted"),
                                    ("dismissed", "Dismissed"),
                                ],
                                default="pending",
                                max_length=10,
                            ),
                        ),
                        (
                            "decided_by",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        (
                            "person",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="+",
                                to="council.person",
                            ),
                        ),
                        (
                            "sitting",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="attendance_suggestions",
                                to="meetings.sitting",
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "attendance suggestion",
                        "verbose_name_plural": "attendance suggestions",
                        "db_table": "voting_attendancesuggestion",
                        "ordering": ["at", "id"],
                    },
                ),
                migrations.CreateModel(
                    name="Exclusion",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("reason", models.CharField(max_length=300, verbose_name="reason")),
                        ("recorded_at", models.DateTimeField(default=django.utils.timezone.now)),
                        (
                            "agenda_item",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="exclusions",
                                to="meetings.agendaitem",
                            ),
                        ),
                        (
                            "person",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="exclusions",
                                to="council.person",
                            ),
                        ),
                        (
                            "recorded_by",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "exclusion (除斥)",
                        "verbose_name_plural": "exclusions (除斥)",
                        "db_table": "voting_exclusion",
                    },
                ),
                migrations.CreateModel(
                    name="RemoteAttendanceRequest",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("reason", models.CharField(max_length=300, verbose_name="reason")),
                        (
                            "applied_at",
                            models.DateTimeField(
                                default=django.utils.timezone.now, verbose_name="applied at"
                            ),
                        ),
                        (
                            "decision",
                            models.CharField(
                                choices=[
                                    ("pending", "Waiting for the chair"),
                                    ("approved", "Approved"),
                                    ("refused", "Refused"),
                                    ("withdrawn", "Withdrawn"),
                                ],
                                default="pending",
                                max_length=20,
                                verbose_name="decision",
                            ),
                        ),
                        (
                            "decided_at",
                            models.DateTimeField(blank=True, null=True, verbose_name="decided at"),
                        ),
                        (
                            "disconnected_at",
                            models.DateTimeField(
                                blank=True, null=True, verbose_name="disconnected by the chair at"
                            ),
                        ),
                        (
                            "decided_by",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        (
                            "disconnected_by",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        (
                            "person",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="remote_requests",
                                to="council.person",
                            ),
                        ),
                        (
                            "sitting",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="remote_requests",
                                to="meetings.sitting",
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "remote attendance request",
                        "verbose_name_plural": "remote attendance requests",
                        "db_table": "voting_remoteattendancerequest",
                        "ordering": ["applied_at", "id"],
                    },
                ),
                migrations.CreateModel(
                    name="IdentityCheck",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        (
                            "at",
                            models.DateTimeField(
                                default=django.utils.timezone.now, verbose_name="checked at"
                            ),
                        ),
                        (
                            "method",
                            models.CharField(
                                choices=[
                                    ("video", "Face on video"),
                                    ("video_id", "Face and ID card on video"),
                                    ("phone", "Phone call back"),
                                    ("other", "Other"),
                                ],
                                max_length=20,
                                verbose_name="method",
                            ),
                        ),
                        ("passed", models.BooleanField(default=True, verbose_name="passed")),
                        (
                            "note",
                            models.CharField(
                                blank=True,
                                help_text="e.g. video and audio both ways, nobody else in the room",
                                max_length=200,
                                verbose_name="note",
                            ),
                        ),
                        (
                            "checked_by",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        (
                            "request",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="checks",
                                to="attendance.remoteattendancerequest",
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "identity check",
                        "verbose_name_plural": "identity checks",
                        "db_table": "voting_identitycheck",
                        "ordering": ["at", "id"],
                    },
                ),
                migrations.AddConstraint(
                    model_name="attendance",
                    constraint=models.UniqueConstraint(
                        fields=("sitting", "person"), name="attendance_unique_person"
                    ),
                ),
                migrations.AddConstraint(
                    model_name="exclusion",
                    constraint=models.UniqueConstraint(
                        fields=("agenda_item", "person"), name="exclusion_unique_person"
                    ),
                ),
                migrations.AddConstraint(
                    model_name="remoteattendancerequest",
                    constraint=models.UniqueConstraint(
                        fields=("sitting", "person"), name="remote_request_unique_person"
                    ),
                ),
            ],
        ),
        migrations.RunPython(move_content_types, move_content_types_back),
    ]
