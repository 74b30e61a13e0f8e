"""List, and with --apply anonymise, every person whose retention period is over (core.privacy).

    manage.py anonymise_expired            # dry run: who would be anonymised, nothing changes
    manage.py anonymise_expired --apply    # anonymise them (for cron, e.g. monthly)

Each subject is anonymised in its own transaction; one refused (a loan opened meanwhile) is reported and
the others go on. The subjects are named without personal data ("beneficiary EI/GD/001", "recipient #12").
"""
from __future__ import annotations

from datetime import date

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.translation import gettext as _

from core import privacy
from core.exceptions import DomainError


class Command(BaseCommand):
    help = "List the people whose retention period is over; with --apply, anonymise their personal data."

    def add_arguments(self, parser):
        parser.add_argument("--apply", action="store_true", help="Anonymise them; without it, only list them.")
        parser.add_argument("--today", type=date.fromisoformat, default=None,
                            help="Count the retention periods as on this day (YYYY-MM-DD); default: today.")

    def handle(self, *args, apply: bool = False, today: date | None = None, **options):
        today = today or timezone.localdate()
        listed = done = refused = 0
        for kind in privacy.subject_kinds():
            for subject in kind.expired(today):
                listed += 1
                label = kind.label(subject)
                if not apply:
                    self.stdout.write(_("would anonymise: %(subject)s") % {"subject": label})
                    continue
                try:
                    kind.anonymise(subject, by=None, today=today)
                except DomainError as exc:
                    refused += 1
                    self.stderr.write(_("refused: %(subject)s: %(reason)s") % {"subject": label, "reason": exc.message})
                    continue
                done += 1
                self.stdout.write(_("anonymised: %(subject)s") % {"subject": label})
        if apply:
            self.stdout.write(_("Anonymised: %(done)d, refused: %(refused)d.") % {"done": done, "refused": refused})
            if refused:
                raise CommandError(_("Some subjects could not be anonymised."))
        else:
            self.stdout.write(_("Past their retention period: %(count)d. Nothing changed; add --apply to anonymise "
                                "them.") % {"count": listed})
