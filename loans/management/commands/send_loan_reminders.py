"""E-mail reminders about loans that end soon or are overdue (meant for a daily cron job).

Each holder gets one message listing their loans: the inventory numbers, the planned end and whether the
loan is already overdue. The IT office gets one summary of all of them, which also names the holders
the reminder could not reach (no e-mail address). `--dry-run` prints the messages instead of sending.

The messages are written in the office's language (settings.LANGUAGE_CODE), as every notice is.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from core.notify import it_office_addresses, send_on_commit
from loans.models import Loan, Recipient
from loans.selectors import loans_ending_or_overdue


@dataclass
class Message:
    to: list[str]
    subject: str
    body: str


@dataclass
class Holder:
    recipient: Recipient
    loans: list[Loan] = field(default_factory=list)

    @property
    def address(self) -> str:
        """The recipient's own address, or a councillor's account address when the record has none."""
        if self.recipient.email:
            return self.recipient.email
        user = self.recipient.user
        return user.email if user is not None and user.email else ""


def _ddmmyyyy(day: date) -> str:
    return day.strftime("%d.%m.%Y")


def _loan_line(loan: Loan, today: date) -> str:
    numbers = ", ".join(item.device.inventory_number for item in loan.held_items) or "—"
    if loan.planned_end_on < today:
        state = ngettext("OVERDUE by %(days)d day", "OVERDUE by %(days)d days",
                         (today - loan.planned_end_on).days) % {"days": (today - loan.planned_end_on).days}
    elif loan.planned_end_on == today:
        state = _("ends today")
    else:
        days = (loan.planned_end_on - today).days
        state = ngettext("ends in %(days)d day", "ends in %(days)d days", days) % {"days": days}
    return _("loan %(id)s: %(devices)s; planned end %(date)s (%(state)s)") % {
        "id": loan.pk, "devices": numbers, "date": _ddmmyyyy(loan.planned_end_on), "state": state}


def build_messages(loans: list[Loan], *, today: date, within_days: int) -> tuple[list[Message], list[Holder]]:
    """One message per holder with an address, then the IT office summary; and the holders without one."""
    holders: dict[int, Holder] = {}
    for loan in loans:
        holders.setdefault(loan.recipient_id, Holder(loan.recipient)).loans.append(loan)
    ordered = sorted(holders.values(), key=lambda h: (h.recipient.name, h.recipient.pk))
    out: list[Message] = []
    unreachable: list[Holder] = []
    for holder in ordered:
        if not holder.address:
            unreachable.append(holder)
            continue
        lines = [
            _("Good day %(name)s,") % {"name": holder.recipient.name},
            "",
            _("The following devices lent to you are due to be returned, or already are:"),
            "",
            *(f"- {_loan_line(loan, today)}" for loan in holder.loans),
            "",
            _("Please bring them back to the IT office by the planned end, or ask the IT office to extend "
              "the loan."),
        ]
        out.append(Message([holder.address], _("Reminder: lent devices to return"), "\n".join(lines)))
    if loans:
        overdue = sum(loan.planned_end_on < today for loan in loans)
        lines = [
            _("Open loans overdue: %(overdue)d; ending within %(days)d days: %(ending)d.")
            % {"overdue": overdue, "days": within_days, "ending": len(loans) - overdue},
            "",
        ]
        for holder in ordered:
            contact = holder.address or _("no e-mail address, not reminded")
            lines.append(f"{holder.recipient.name} ({contact}):")
            lines.extend(f"  - {_loan_line(loan, today)}" for loan in holder.loans)
        out.append(Message(it_office_addresses(), _("Loans ending or overdue: summary"), "\n".join(lines)))
    return out, unreachable


class Command(BaseCommand):
    help = "E-mail the holders of loans that end within --days days or are overdue, and the IT office a summary."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--days", type=int, default=14,
                            help="remind of loans whose planned end is at most this many days away (default 14)")
        parser.add_argument("--dry-run", action="store_true", help="print the messages, send nothing")

    def handle(self, *args, days: int, dry_run: bool, **options) -> None:
        if days < 0:
            raise CommandError(_("--days cannot be negative."))
        with translation.override(settings.LANGUAGE_CODE):
            self._run(days=days, dry_run=dry_run)

    def _run(self, *, days: int, dry_run: bool) -> None:
        today = timezone.localdate()
        loans = list(loans_ending_or_overdue(within_days=days, today=today))
        if not loans:
            self.stdout.write(_("No open loan ends within %(days)d days or is overdue; nothing to send.")
                              % {"days": days})
            return
        messages, unreachable = build_messages(loans, today=today, within_days=days)
        holder_messages = messages[:-1]
        for message in messages:
            if dry_run:
                self.stdout.write(f"--- {', '.join(message.to) or '—'}: {message.subject}\n{message.body}\n")
            else:
                send_on_commit(subject=message.subject, body=message.body, to=message.to)
        overdue = sum(loan.planned_end_on < today for loan in loans)
        unreachable_count, office_count = len(unreachable), len(messages[-1].to)
        summary = _("%(loans)s; %(holders)s, %(unreachable)s; %(office)s.") % {
            "loans": ngettext("%(count)d loan (%(overdue)d overdue)", "%(count)d loans (%(overdue)d overdue)",
                              len(loans)) % {"count": len(loans), "overdue": overdue},
            "holders": ngettext("%(count)d holder reminded", "%(count)d holders reminded",
                                len(holder_messages)) % {"count": len(holder_messages)},
            "unreachable": ngettext("%(count)d without an e-mail address", "%(count)d without an e-mail address",
                                    unreachable_count) % {"count": unreachable_count},
            "office": ngettext("summary to the IT office at %(count)d address",
                               "summary to the IT office at %(count)d addresses",
                               office_count) % {"count": office_count},
        }
        if dry_run:
            summary = _("Dry run, nothing sent: %(summary)s") % {"summary": summary}
        self.stdout.write(summary)
