from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('cameras', '0002_release_history'),
    ]

    operations = [
        migrations.AddField(
            model_name='source',
            name='table_mapping',
            field=models.JSONField(blank=True, help_text='The column mapping the table reader last imported this source with (its re-imports use it)', null=True),
        ),
    ]
