"""Restore a backup made by `manage.py backup` into an empty, migrated database, then check the result.

    manage.py migrate && manage.py restore --input /srv/backup/2026-11-21

Refuses (exit code 1, nothing written) a backup that fails its check, a database migrated differently
from the backup's or already holding records, and a media storage holding a different file of the same
name. After loading, compares the number of records of every model with the manifest and hashes every
issued document's file against its SHA-256; prints the result and exits with 1 on any difference.
"""
from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from core.backup import BackupError, made_at, read_manifest, restore_backup


class Command(BaseCommand):
    help = "Restore a backup (--input DIR) into an empty database and media storage, then check it."

    def add_arguments(self, parser):
        parser.add_argument("--input", metavar="DIR", required=True, help="The backup's directory.")
        parser.add_argument("--database", default="default", help="The database to restore into (default: default).")

    def handle(self, *args, input, database="default", **options):
        try:
            problems = restore_backup(input, using=database)
            manifest = read_manifest(input)
        except BackupError as error:
            raise CommandError(str(error)) from None
        if problems:
            for problem in problems:
                self.stderr.write(problem)
            raise CommandError(_("The restored register differs from the backup (problems: %(count)d).")
                               % {"count": len(problems)})
        self.stdout.write(self.style.SUCCESS(
            _("Restored the backup of %(date)s. Records matching the manifest: %(records)d; issued documents "
              "matching their SHA-256: %(documents)d.") % {"date": made_at(manifest),
                                                   "records": sum(manifest["counts"].values()),
                                                   "documents": len(manifest["documents"])}))
