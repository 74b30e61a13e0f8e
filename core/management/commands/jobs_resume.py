"""Put back in the queue every background job whose worker died (core.jobs.jobs_resume_stalled).

    manage.py jobs_resume                  # running jobs silent for JOB_STALE_AFTER seconds (for cron)
    manage.py jobs_resume --older-than 60  # silent for a minute

django-tasks' worker does not notice that another worker died in the middle of a task: the job stays
"running" with a heartbeat that no longer moves. Run this from cron every few minutes; each job it finds
is queued again, with a "resumed" event, and the next worker goes on from the last unit recorded.
"""
from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from core.jobs import jobs_resume_stalled


class Command(BaseCommand):
    help = "Queue again the background jobs whose worker stopped answering."

    def add_arguments(self, parser):
        parser.add_argument("--older-than", type=int, default=None, metavar="SECONDS",
                            help="Silent for at least this many seconds (default: JOB_STALE_AFTER).")

    def handle(self, *args, older_than: int | None = None, **options):
        seconds = settings.JOB_STALE_AFTER if older_than is None else older_than
        if seconds < 0:
            raise CommandError(_("--older-than takes a number of seconds, 0 or more."))
        resumed = jobs_resume_stalled(by=None, older_than=timedelta(seconds=seconds))
        for job in resumed:
            self.stdout.write(_("resumed: %(job)s") % {"job": job})
        self.stdout.write(_("%(count)s jobs resumed.") % {"count": len(resumed)})
