"""Demo data of fault reports (load_demo finds this module in each app): one fault in progress.

The Kielce answer says the IT office advises councillors whenever they report a technical problem; the
demo councillor (seat `fault.seat`) has reported one, which the IT office has taken up with the vendor.
"""
from __future__ import annotations

from collections import Counter
from typing import Any

from faults import services
from faults.models import FaultReport
from loans.models import LoanItem


def load_demo(facts: dict[str, Any], *, by, created: Counter, skipped: Counter) -> None:
    spec = (facts.get("councillor_loans") or {}).get("fault")
    if not spec:
        return
    number = facts["councillor_loans"]["device"].format(n=spec["seat"])
    item = LoanItem.objects.select_related("loan__recipient__user", "device").filter(
        device__inventory_number=number, is_open=True).first()
    if item is None or FaultReport.objects.filter(device=item.device).exists():
        skipped["fault reports"] += 1
        return
    fault = services.fault_report(by=item.loan.recipient.user, device=item.device, category=spec["category"],
                                  description=spec["description"], contact=spec["contact"])
    # The IT office's replies need a person to sign them: without the demo accounts the fault only moves.
    services.fault_acknowledge(fault=fault, by=by, reply=spec["acknowledge"] if by else "")
    services.fault_start_work(fault=fault, by=by, reply=spec["start_work"] if by else "")
    created["fault reports"] += 1
