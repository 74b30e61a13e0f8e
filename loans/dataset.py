"""The loans of the synthetic data set (assets.dataset): council terms, councillors with their accounts,
staff, households and schools as recipients, and one loan for every time a device went on loan.

A loan starts on the device's move to "on loan" and ends on its next move: back in stock (returned),
lost (lost), or not yet (open, the device's status is "on loan" and its loan item is open). Open loans
carry their loan agreement as an issued-document row, so that /verify/ has codes to check.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta
from datetime import timezone as dt_timezone

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from assets.choices import DeviceKind, DeviceStatus
from assets.dataset import DatasetContext, DevicePlan
from core.choices import DocumentKind
from core.roles import Role
from loans.choices import LoanEventKind, LoanPurpose, LoanStatus, RecipientKind
from loans.models import CouncilTerm, Loan, LoanEvent, LoanItem, Recipient

UTC = dt_timezone.utc
TERMS = ((date(2010, 11, 29), date(2014, 11, 30), "2010–2014"), (date(2014, 12, 1), date(2018, 11, 21), "2014–2018"),
         (date(2018, 11, 22), date(2024, 5, 6), "2018–2024"), (date(2024, 5, 7), date(2029, 4, 30), "2024–2029"))
FIRST_NAMES = ("Anna", "Piotr", "Katarzyna", "Tomasz", "Magdalena", "Krzysztof", "Agnieszka", "Paweł", "Ewa", "Marek")
LAST_NAMES = ("Nowak", "Kowalski", "Wiśniewska", "Wójcik", "Kamińska", "Lewandowski", "Zielińska", "Szymański")


class Contribution:
    def __init__(self, ctx: DatasetContext) -> None:
        self.ctx = ctx
        w = ctx.writer
        User = get_user_model()
        self.users = w.sink(User, ["id", "password", "username", "first_name", "last_name", "is_staff", "is_active",
                                   "is_superuser", "date_joined"])
        self.user_groups = w.sink(User.groups.through, ["id", "user_id", "group_id"])
        self.terms_sink = w.sink(CouncilTerm, ["id", "council", "name", "starts_on", "ends_on", "created_at",
                                               "updated_at"], history=True, history_date_field="created_at")
        self.recipients = w.sink(Recipient, ["id", "kind", "name", "user_id", "address", "created_at", "updated_at"],
                                 history=True, history_date_field="created_at")
        self.loans = w.sink(Loan, ["id", "recipient_id", "purpose", "council_term_id", "starts_on", "planned_end_on",
                                   "ended_on", "status", "condition_at_handover", "condition_at_return", "created_at",
                                   "updated_at"], history=True, history_date_field="updated_at")
        self.items = w.sink(LoanItem, ["id", "loan_id", "device_id", "is_open", "closed_on"])
        self.events = w.sink(LoanEvent, ["id", "loan_id", "kind", "occurred_at", "actor_id", "from_status", "to_status",
                                         "reason"])
        self.terms: list[tuple[int, date, date]] = []
        self.councillors: list[int] = []
        self.staff: list[int] = []
        self.households: list[int] = []

    def _person(self, n: int) -> str:
        return f"{FIRST_NAMES[n % len(FIRST_NAMES)]} {LAST_NAMES[(n // len(FIRST_NAMES)) % len(LAST_NAMES)]} ({n})"

    def prepare(self) -> None:
        ctx = self.ctx
        created = datetime(2010, 11, 1, 9, tzinfo=UTC)
        for starts, ends, name in TERMS:
            term_id = self.terms_sink.take_id()
            self.terms_sink.add((term_id, "Rada Miasta (zbiór danych)", name, starts, ends, created, created))
            self.terms.append((term_id, starts, ends))
        group_id = Group.objects.filter(name=Role.COUNCILLOR).values_list("id", flat=True).first()
        for n in range(max(3, ctx.devices // 400)):
            user_id = self.users.take_id()
            self.users.add((user_id, "!dataset", f"dataset-radny-{user_id}", FIRST_NAMES[n % 10],
                            LAST_NAMES[n % 8], False, True, False, created))
            if group_id:
                self.user_groups.add((self.user_groups.take_id(), user_id, group_id))
            recipient_id = self.recipients.take_id()
            self.recipients.add((recipient_id, RecipientKind.COUNCILLOR, self._person(recipient_id), user_id, "",
                                 created, created))
            self.councillors.append(recipient_id)
        for kind, target, address in ((RecipientKind.STAFF, self.staff, ""),
                                      (RecipientKind.HOUSEHOLD, self.households, "ul. Mieszkaniowa {n}")):
            for n in range(max(5, ctx.devices // 100)):
                recipient_id = self.recipients.take_id()
                self.recipients.add((recipient_id, kind, self._person(recipient_id), None,
                                     address.format(n=n + 1), created, created))
                target.append(recipient_id)
        schools = []
        for n in range(max(3, ctx.devices // 2_000)):
            recipient_id = self.recipients.take_id()
            self.recipients.add((recipient_id, RecipientKind.SCHOOL, f"Szkoła Podstawowa nr {n + 1} ({recipient_id})",
                                 None, f"ul. Szkolna {n + 1}", created, created))
            schools.append(recipient_id)
        ctx.shared.update(households=self.households, schools=schools, councillors=self.councillors)

    def _term(self, day: date) -> tuple[int, date, date]:
        for term in self.terms:
            if term[1] <= day <= term[2]:
                return term
        return self.terms[-1]

    def on_device(self, plan: DevicePlan) -> None:
        moves = plan.moves
        for index, (status, at) in enumerate(moves):
            if status == DeviceStatus.ON_LOAN:
                following = moves[index + 1] if index + 1 < len(moves) else None
                self._loan(plan, at, following)

    def _loan(self, plan: DevicePlan, at: datetime, following: tuple[str, datetime] | None) -> None:
        ctx, rng = self.ctx, self.ctx.rng
        starts = at.date()
        term_id = None
        if plan.kind == DeviceKind.TABLET and rng.random() < 0.7:
            recipient_id, purpose = rng.choice(self.councillors), LoanPurpose.COUNCIL_SESSIONS
            term_id, _term_starts, planned_end = self._term(starts)
            planned_end = max(planned_end, starts)
        elif rng.random() < 0.6:
            recipient_id, purpose, planned_end = rng.choice(self.staff), LoanPurpose.STAFF_WORK, \
                starts + timedelta(days=3 * 365)
        else:
            recipient_id, purpose, planned_end = rng.choice(self.households), LoanPurpose.GRANT_PROJECT, \
                starts + timedelta(days=2 * 365)
        if following is None:
            status, ended, end_at = LoanStatus.OPEN, None, None
        elif following[0] == DeviceStatus.LOST:
            status, ended, end_at = LoanStatus.LOST, following[1].date(), following[1]
        else:
            status, ended, end_at = LoanStatus.RETURNED, following[1].date(), following[1]
        loan_id = self.loans.take_id()
        self.loans.add((loan_id, recipient_id, purpose, term_id, starts, planned_end, ended, status,
                        "bez uszkodzeń, komplet akcesoriów", "bez uszkodzeń" if status == LoanStatus.RETURNED else "",
                        at, end_at or at))
        self.items.add((self.items.take_id(), loan_id, plan.id, status == LoanStatus.OPEN, ended))
        actor = ctx.it_user_id
        self.events.add((self.events.take_id(), loan_id, LoanEventKind.STARTED, at, actor, "", LoanStatus.OPEN,
                         "wydanie na podstawie umowy użyczenia"))
        if end_at is not None:
            kind = LoanEventKind.LOST if status == LoanStatus.LOST else LoanEventKind.RETURNED
            self.events.add((self.events.take_id(), loan_id, kind, end_at, actor, LoanStatus.OPEN, status,
                             "zwrot" if status == LoanStatus.RETURNED else "kradzież"))
        else:
            ctx.document(kind=DocumentKind.LOAN_AGREEMENT, title=f"Umowa użyczenia nr {loan_id}", subject=Loan,
                         subject_id=loan_id, issued_at=at)

    def finish(self) -> None:
        pass
