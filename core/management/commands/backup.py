"""Back up the whole register (database and stored files) into a directory, or check such a backup.

    manage.py backup --output /srv/backup/2026-11-21      # writes manifest.json, data.jsonl, files/
    manage.py backup --check /srv/backup/2026-11-21       # complete and unaltered? exit code 1 if not

See core.backup for what a backup holds; `manage.py restore` puts it back into an empty database.
"""
from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from core.backup import BackupError, create_backup, verify_backup


class Command(BaseCommand):
    help = "Back up the database and the stored files into a directory (--output), or check a backup (--check)."

    def add_arguments(self, parser):
        action = parser.add_mutually_exclusive_group(required=True)
        action.add_argument("--output", metavar="DIR", help="A new (or empty) directory to write the backup into.")
        action.add_argument("--check", metavar="DIR", help="A backup to check against its manifest.")
        parser.add_argument("--database", default="default", help="The database to back up (default: default).")

    def handle(self, *args, output=None, check=None, database="default", **options):
        if check:
            problems = verify_backup(check)
            if problems:
                for problem in problems:
                    self.stderr.write(problem)
                raise CommandError(_("The backup in %(path)s fails its check (problems: %(count)d).")
                                   % {"path": check, "count": len(problems)})
            self.stdout.write(self.style.SUCCESS(_("The backup in %(path)s is complete and unaltered.")
                                                 % {"path": check}))
            return
        try:
            manifest = create_backup(output, using=database)
        except BackupError as error:
            raise CommandError(str(error)) from None
        problems = verify_backup(output)
        for problem in problems:
            self.stderr.write(problem)
        self.stdout.write(_("Backup written to %(path)s. Records: %(records)d, issued documents: %(documents)d, "
                            "files: %(files)d.") % {"path": output, "records": sum(manifest["counts"].values()),
                                                   "documents": len(manifest["documents"]),
                                                   "files": len(manifest["files"])})
        if problems:
            raise CommandError(_("The backup was written, but it fails its check (problems: %(count)d): the "
                                 "stored files differ from what the database says.") % {"count": len(problems)})
