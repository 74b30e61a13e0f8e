"""Indexes of the device list at a million devices: each filter with the list's order, and on PostgreSQL
trigram indexes for the `q` search and the location filter, which are `icontains` (UPPER(col) LIKE
UPPER('%...%')): a B-tree cannot serve a pattern with a leading wildcard, a trigram GIN index can.

The trigram part is PostgreSQL only (pg_trgm is a trusted extension: the database owner may create it) and
does nothing on SQLite, where the register is one office's and a scan is cheap. The model state does not
know these expression indexes, so makemigrations never proposes to drop them.
"""
from django.db import migrations, models

# The fields DeviceFilterSet.search_fields searches, and the location filter.
SEARCHED = ("inventory_number", "serial_number", "manufacturer", "model", "location", "notes")


def create_trigram_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for column in SEARCHED:
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS device_{column}_trgm_idx ON assets_device "
            f"USING gin ((UPPER({column}::text)) gin_trgm_ops)")


def drop_trigram_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for column in SEARCHED:
        schema_editor.execute(f"DROP INDEX IF EXISTS device_{column}_trgm_idx")


class Migration(migrations.Migration):

    dependencies = [
        ('assets', '0005_deviceevent_import_batch'),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='device',
            name='device_status_idx',
        ),
        migrations.AddIndex(
            model_name='device',
            index=models.Index(fields=['status', 'inventory_number'], name='device_status_number_idx'),
        ),
        migrations.AddIndex(
            model_name='device',
            index=models.Index(fields=['kind', 'inventory_number'], name='device_kind_number_idx'),
        ),
        migrations.AddIndex(
            model_name='device',
            index=models.Index(fields=['status', 'kind'], name='device_status_kind_idx'),
        ),
        migrations.AddIndex(
            model_name='device',
            index=models.Index(fields=['status_changed_at'], name='device_status_changed_idx'),
        ),
        migrations.RunPython(create_trigram_indexes, drop_trigram_indexes),
    ]
