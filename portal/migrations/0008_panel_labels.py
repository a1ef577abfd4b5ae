from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("portal", "0007_contact_account"),
    ]

    operations = [
        migrations.AddField(
            model_name="order",
            name="label",
            field=models.CharField(blank=True, default="", max_length=40),
        ),
        # the France mode's labels: exact positions are not for use in France
        migrations.AlterField(
            model_name="order",
            name="fr_zone_mode",
            field=models.CharField(choices=[("legal", "danger zones, as French law requires (no exact position, no speed)"),
                                            ("exact", "exact camera positions and speeds (not for use in France)")],
                                   default="legal", max_length=8),
        ),
    ]
