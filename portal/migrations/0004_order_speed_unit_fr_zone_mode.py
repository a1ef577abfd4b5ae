from django.db import migrations, models


class Migration(migrations.Migration):
    """The speed unit and the France mode of each purchase. Orders placed before keep what
    their files had: speed unit "auto" and France "exact" (their files do not change unasked);
    new orders default to the legal mode."""

    dependencies = [
        ('portal', '0003_panel'),
    ]

    operations = [
        migrations.AddField(
            model_name='order',
            name='speed_unit',
            field=models.CharField(choices=[('auto', "each country's unit (mph in the UK and the US, km/h elsewhere)"), ('kmh', 'km/h everywhere'), ('mph', 'mph everywhere')], default='auto', max_length=8),
        ),
        migrations.AddField(
            model_name='order',
            name='fr_zone_mode',
            field=models.CharField(choices=[('legal', 'danger zones, as French law requires (no exact position, no speed)'), ('exact', 'exact camera positions and speeds')], default='exact', max_length=8),
        ),
        migrations.AlterField(
            model_name='order',
            name='fr_zone_mode',
            field=models.CharField(choices=[('legal', 'danger zones, as French law requires (no exact position, no speed)'), ('exact', 'exact camera positions and speeds')], default='legal', max_length=8),
        ),
    ]
