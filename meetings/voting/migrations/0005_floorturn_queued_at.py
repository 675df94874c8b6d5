import django.utils.timezone
from django.db import migrations, models
from django.db.models import F


def queued_when_requested(apps, schema_editor):
    # Before this field every turn was queued when it was requested (or scheduled).
    apps.get_model("voting", "FloorTurn").objects.update(queued_at=F("requested_at"))


class Migration(migrations.Migration):
    dependencies = [
        ("voting", "0004_receipt_unique_per_poll"),
    ]

    operations = [
        migrations.AddField(
            model_name="floorturn",
            name="queued_at",
            field=models.DateTimeField(null=True, verbose_name="queued at"),
        ),
        migrations.RunPython(queued_when_requested, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="floorturn",
            name="queued_at",
            field=models.DateTimeField(default=django.utils.timezone.now, verbose_name="queued at"),
        ),
    ]
