"""Demo data of loans (load_demo finds this module in each app): the Kielce councillors' tablets.

From the Kielce answer of 2020: the vendor created the accounts with temporary passwords, the councillors
were trained on 16 April 2020 and each tablet was personalised before the remote session of 23 April
2020. Each councillor holds their tablet under a loan tied to the council term, with the set-up
checklist complete. The term's end moves as the statute of 2022 moved it, and the loans move with it.
Everything goes through loans.services; what already exists is left as it is.
"""
from __future__ import annotations

from collections import Counter
from datetime import date
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from assets.models import Device
from core.roles import Role
from loans import services
from loans.choices import LoanPurpose, RecipientKind
from loans.models import CouncilTerm, LoanItem, Recipient

DEMO_COUNCILLOR_ACCOUNT = "radny"


def _term(spec: dict[str, Any], *, by, created: Counter, skipped: Counter) -> CouncilTerm:
    term = CouncilTerm.objects.filter(council=spec["council"], name=spec["name"]).first()
    if term is not None:
        skipped["council terms"] += 1
        return term
    term = services.council_term_create(by=by, council=spec["council"], name=spec["name"],
                                        starts_on=date.fromisoformat(spec["starts_on"]),
                                        ends_on=date.fromisoformat(spec["ends_on"]))
    created["council terms"] += 1
    return term


def _councillor(spec: dict[str, Any], n: int, *, by) -> Recipient:
    """The recipient of seat `n`; seat `demo_account_seat` is the demo account `radny` (when it exists)."""
    User = get_user_model()
    username = spec["username"].format(n=n)
    if n == spec.get("demo_account_seat") and User.objects.filter(username=DEMO_COUNCILLOR_ACCOUNT).exists():
        username = DEMO_COUNCILLOR_ACCOUNT
    user, new = User.objects.get_or_create(username=username, defaults={"is_staff": False})
    if new:  # a councillor of the demo without a login of its own: no usable password
        user.set_unusable_password()
        user.save(update_fields=["password"])
    user.groups.add(Group.objects.get(name=Role.COUNCILLOR))
    recipient = Recipient.objects.filter(user=user).first()
    if recipient is None:
        recipient = services.recipient_create(by=by, kind=RecipientKind.COUNCILLOR,
                                              name=spec["recipient"].format(n=n), user=user)
    return recipient


def load_demo(facts: dict[str, Any], *, by, created: Counter, skipped: Counter) -> None:
    terms = {spec["key"]: _term(spec, by=by, created=created, skipped=skipped)
             for spec in facts.get("council_terms", [])}
    spec = facts.get("councillor_loans")
    if spec:
        term = terms[spec["term"]]
        numbers = [spec["device"].format(n=n) for n in range(1, spec["count"] + 1)]
        devices = {d.inventory_number: d for d in Device.objects.filter(inventory_number__in=numbers)}
        lent = set(LoanItem.objects.filter(device__in=devices.values()).values_list("device__inventory_number",
                                                                                      flat=True))
        for n, number in enumerate(numbers, start=1):
            if number in lent or number not in devices:
                skipped["loans"] += 1
                continue
            loan = services.loan_start(
                recipient=_councillor(spec, n, by=by), purpose=LoanPurpose.COUNCIL_SESSIONS, council_term=term,
                devices=[devices[number]], starts_on=date.fromisoformat(spec["starts_on"]),
                condition_at_handover=spec["condition_at_handover"], accessories=spec.get("accessories", []), by=by)
            for step in spec.get("setup_steps", []):
                services.loan_record_setup_step(loan=loan, step=step["step"], done_on=date.fromisoformat(step["done_on"]),
                                                note=step.get("note", ""), by=by)
            created["loans"] += 1
    # A term's end moved by law: every open loan tied to it moves with it.
    for term_spec in facts.get("council_terms", []):
        term = terms[term_spec["key"]]
        moved_to = term_spec.get("moved_to")
        if moved_to and term.ends_on != date.fromisoformat(moved_to):
            services.council_term_change_end(term=term, ends_on=date.fromisoformat(moved_to), by=by,
                                             reason=term_spec.get("moved_reason", ""))
