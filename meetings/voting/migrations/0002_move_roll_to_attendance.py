"""The roll's models now belong to the attendance app (its migration 0001); their tables stay."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("attendance", "0001_move_roll_to_attendance"),
        ("voting", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            # The tables stay where they are (voting_*); only Django's idea of their app changes.
            database_operations=[],
            state_operations=[
                migrations.RemoveField(
                    model_name="attendancechange",
                    name="attendance",
                ),
                migrations.RemoveField(
                    model_name="attendancechange",
                    name="by",
                ),
                migrations.RemoveField(
                    model_name="attendancesuggestion",
                    name="decided_by",
                ),
                migrations.RemoveField(
                    model_name="attendancesuggestion",
                    name="person",
                ),
                migrations.RemoveField(
                    model_name="attendancesuggestion",
                    name="sitting",
                ),
                migrations.RemoveField(
                    model_name="exclusion",
                    name="agenda_item",
                ),
                migrations.RemoveField(
                    model_name="exclusion",
                    name="person",
                ),
                migrations.RemoveField(
                    model_name="exclusion",
                    name="recorded_by",
                ),
                migrations.RemoveField(
                    model_name="identitycheck",
                    name="checked_by",
                ),
                migrations.RemoveField(
                    model_name="identitycheck",
                    name="request",
                ),
                migrations.RemoveField(
                    model_name="remoteattendancerequest",
                    name="decided_by",
                ),
                migrations.RemoveField(
                    model_name="remoteattendancerequest",
                    name="disconnected_by",
                ),
                migrations.RemoveField(
                    model_name="remoteattendancerequest",
                    name="person",
                ),
                migrations.RemoveField(
                    model_name="remoteattendancerequest",
                    name="sitting",
                ),
                migrations.DeleteModel(
                    name="Attendance",
                ),
                migrations.DeleteModel(
                    name="AttendanceChange",
                ),
                migrations.DeleteModel(
                    name="AttendanceSuggestion",
                ),
                migrations.DeleteModel(
                    name="Exclusion",
                ),
                migrations.DeleteModel(
                    name="IdentityCheck",
                ),
                migrations.DeleteModel(
                    name="RemoteAttendanceRequest",
                ),
            ],
        ),
    ]
