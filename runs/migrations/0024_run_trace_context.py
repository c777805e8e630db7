from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("runs", "0023_bulk_jobs"),
    ]

    operations = [
        migrations.AddField(
            model_name="run",
            name="trace_context",
            field=models.JSONField(blank=True, null=True),
        ),
    ]
