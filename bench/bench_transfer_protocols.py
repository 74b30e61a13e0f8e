"""Completing approved free transfers one by one, as one worker does, against the cost of their protocol alone.

    .venv/bin/python bench/bench_transfer_protocols.py [--transfers 10000] [--profile]
    DATABASE_URL=postgres://... .venv/bin/python bench/bench_transfer_protocols.py

Uses a throw-away database (a temporary SQLite file, or a `test_` database beside the one in DATABASE_URL)
and a temporary MEDIA_ROOT on disk for the protocols' files, so it never touches real data.

The register it sets up is the end of a grant project such as e-Inclusion: projects of up to 2,000
households whose durability period ended on 31.03.2021, each household holding its set on loan since
2014 (a desktop with its hard disk and a monitor, every tenth a router too), never lent to anyone else,
so that the beneficiary exception applies; one mayoral order per project, in force from 14.06.2021,
whose annex lists the project's beneficiaries. The devices, media, kits, beneficiaries, loans and their
events and history rows are bulk-written; the projects and the orders with their annexes go through the
services. The first `--via-services` transfers are created, submitted and approved through the services;
the others are written as those services write them (the transfer with its items, the created,
submitted and approved events, three history rows, and the approval's legal check, computed by the
real check). Nothing is bypassed when they are completed: `transfer_complete` checks each again on the
locked devices.

Then it completes every transfer through `donations.services.transfer_complete`, one at a time, each
in its own transaction, and prints protocols per second, the time of one completion (p50, p95), the
queries of one completion, and, measured in the same run on samples of the same transfers:
(a) rendering the protocol PDF alone (reportlab, no database), (b) `document_issue` alone (code, render,
store), and (c) the legal check alone, so that the reader sees where the time goes. `--profile` prints
the functions the completions spend their time in (cProfile).
"""
from __future__ import annotations

import argparse
import cProfile
import os
import platform
import pstats
import statistics
import time
from datetime import date, datetime, timedelta
from decimal import Decimal

from throwaway import throwaway_database  # bench/ is on the path of a script run from it

PROJECT_SIZE = 2000  # households per grant project (and per order)
TRANSFER_DATE = date(2021, 7, 1)
TARGET_PER_SECOND = 50


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--transfers", type=int, default=10_000)
    parser.add_argument("--via-services", type=int, default=100,
                        help="transfers created, submitted and approved through the services (the rest bulk-written)")
    parser.add_argument("--samples", type=int, default=300, help="protocols measured for each baseline")
    parser.add_argument("--profile", action="store_true", help="print where the completions spend their time")
    args = parser.parse_args()

    with throwaway_database() as tmp:
        from django.conf import settings
        from django.test.utils import override_settings

        with override_settings(MEDIA_ROOT=str(tmp / "media"), STORAGES={
                **settings.STORAGES, "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"}}):
            run(args.transfers, via_services=min(args.via_services, args.transfers), samples=args.samples,
                profile=args.profile)


# --- the register ---------------------------------------------------------------------------------

def _at(day: date) -> datetime:
    from django.utils import timezone

    return timezone.make_aware(datetime.combine(day, datetime.min.time()) + timedelta(hours=9))


def _users():
    from django.contrib.auth.models import Group, User

    from core.roles import Role

    clerk = User.objects.create_user("informatyk", password="x", first_name="Paweł", last_name="Wiśniewski")
    clerk.groups.add(Group.objects.get(name=Role.IT_OFFICE))
    lawyer = User.objects.create_user("radca", password="x", first_name="Zofia", last_name="Żak-Łęcka")
    lawyer.groups.add(Group.objects.get(name=Role.LEGAL_OFFICE))
    return clerk, lawyer


def _history(model, objs, *, reason: str, when: datetime, update: bool = False) -> None:
    model.history.bulk_history_create(objs, update=update, default_change_reason=reason, default_date=when,
                                      batch_size=500)


def build_register(n: int, *, by) -> list:
    """n households of grant projects holding their sets on loan, and the orders that let the sets go.
    Returns the beneficiaries, in code order."""
    from assets.choices import DeviceKind, DeviceStatus, FundingSource, MediumKind
    from assets.models import Device, DeviceEvent, Kit, StorageMedium
    from donations import services
    from donations.choices import BeneficiaryKind, OrderKind
    from donations.models import Beneficiary, ProjectDevice
    from loans.choices import LoanEventKind, LoanPurpose, LoanStatus, RecipientKind
    from loans.models import Loan, LoanEvent, LoanItem, Recipient

    bought, lent = date(2014, 3, 3), date(2014, 4, 1)
    beneficiaries: list[Beneficiary] = []
    for first in range(0, n, PROJECT_SIZE):
        p = first // PROJECT_SIZE + 1
        size = min(PROJECT_SIZE, n - first)
        project = services.project_create(
            by=by, name=f"Przeciwdziałanie wykluczeniu cyfrowemu – e-Inclusion, edycja {p}",
            programme="POIG 8.3 eInclusion", agreement_number=f"POIG.08.03.00-30-{p:03d}/12",
            starts_on=date(2013, 1, 2), ends_on=date(2015, 12, 31), final_payment_on=date(2016, 3, 31),
            durability_years=5)
        recipients = Recipient.objects.bulk_create([
            Recipient(kind=RecipientKind.HOUSEHOLD, name=f"Gospodarstwo domowe Łukaszewiczów nr {first + i + 1}",
                      address=f"ul. Słowiańska {i % 90 + 1}, 64-100 Leszno", phone="+48 65 000 00 00")
            for i in range(size)], batch_size=500)
        _history(Recipient, recipients, reason="beneficiary registered", when=_at(date(2013, 9, 2)))
        group = Beneficiary.objects.bulk_create([
            Beneficiary(project=project, recipient=r, code=f"EI/GD/{first + i + 1:05d}", kind=BeneficiaryKind.HOUSEHOLD,
                        eligibility_basis="uczeń w rodzinie korzystającej z pomocy społecznej (decyzja MOPS)",
                        eligibility_reference=f"MOPS.8310.{first + i + 1}.2013", qualified_on=date(2013, 9, 2))
            for i, r in enumerate(recipients)], batch_size=500)
        _history(Beneficiary, group, reason="beneficiary registered", when=_at(date(2013, 9, 2)))

        kits = Kit.objects.bulk_create([Kit(code=f"EI-{p}-{i + 1:05d}", name=f"Zestaw e-Inclusion {first + i + 1}")
                                        for i in range(size)], batch_size=500)
        _history(Kit, kits, reason="", when=_at(bought))
        devices, per_kit = [], []
        for i, kit in enumerate(kits):
            number = first + i + 1
            mine = [
                Device(inventory_number=f"EI/{number:05d}/K", kind=DeviceKind.DESKTOP, manufacturer="Dell",
                       model="OptiPlex 3020", serial_number=f"CN0K{number:07d}"),
                Device(inventory_number=f"EI/{number:05d}/M", kind=DeviceKind.MONITOR, manufacturer="Dell",
                       model="E2214H", serial_number=f"CN0M{number:07d}"),
            ]
            if number % 10 == 0:
                mine.append(Device(inventory_number=f"EI/{number:05d}/R", kind=DeviceKind.ROUTER,
                                   manufacturer="TP-Link", model="Archer MR200", serial_number=f"TPL{number:08d}"))
            for device in mine:
                device.kit = kit
                device.purchase_date = bought
                device.purchase_price = Decimal("2890.00") if device.kind == DeviceKind.DESKTOP else Decimal("540.00")
                device.funding_source = FundingSource.EU_FUNDS
                device.location = "u beneficjenta"
                device.status = DeviceStatus.ON_LOAN
                device.status_changed_at = _at(lent)
            devices += mine
            per_kit.append(mine)
        Device.objects.bulk_create(devices, batch_size=500)
        _history(Device, devices, reason="registered", when=_at(bought))
        media = StorageMedium.objects.bulk_create([
            StorageMedium(device=d, kind=MediumKind.HDD, manufacturer="Seagate", model="ST500DM002",
                          serial_number=f"Z3T{d.serial_number[4:]}", capacity_gb=500)
            for d in devices if d.kind == DeviceKind.DESKTOP], batch_size=500)
        _history(StorageMedium, media, reason="", when=_at(bought))
        ProjectDevice.objects.bulk_create([ProjectDevice(project=project, device=d, added_at=_at(bought), added_by=by)
                                           for d in devices], batch_size=500)

        loans = Loan.objects.bulk_create([
            Loan(recipient=b.recipient, purpose=LoanPurpose.GRANT_PROJECT, kit=kit, starts_on=lent,
                 planned_end_on=project.durability_ends_on, status=LoanStatus.OPEN,
                 condition_at_handover="Nowy, kompletny, sprawny.",
                 notes=f"Projekt {project.name}, beneficjent {b.code}.")
            for b, kit in zip(group, kits)], batch_size=500)
        _history(Loan, loans, reason="loan started", when=_at(lent))
        LoanItem.objects.bulk_create([LoanItem(loan=loan, device=d) for loan, mine in zip(loans, per_kit) for d in mine],
                                     batch_size=500)
        LoanEvent.objects.bulk_create([LoanEvent(loan=loan, kind=LoanEventKind.STARTED, occurred_at=_at(lent),
                                                 to_status=LoanStatus.OPEN, planned_end_after=loan.planned_end_on)
                                       for loan in loans], batch_size=500)
        DeviceEvent.objects.bulk_create(
            [DeviceEvent(device=d, occurred_at=_at(bought), from_status="", to_status=DeviceStatus.IN_STOCK,
                         reason="registered") for d in devices]
            + [DeviceEvent(device=d, occurred_at=_at(lent), from_status=DeviceStatus.IN_STOCK,
                           to_status=DeviceStatus.ON_LOAN, reason=f"loan {loan.pk} to {b.recipient.name}")
               for b, loan, mine in zip(group, loans, per_kit) for d in mine], batch_size=500)

        order = services.order_create(
            by=by, number=f"{120 + p}/2021", signed_on=date(2021, 6, 14),
            signatory="Łukasz Borowski, Prezydent Miasta Leszna",
            title="w sprawie nieodpłatnego przekazania sprzętu komputerowego beneficjentom projektu",
            legal_basis="art. 30 ust. 2 pkt 3 ustawy o samorządzie gminnym", kind=OrderKind.FREE_TRANSFER,
            in_force_from=date(2021, 6, 14), project=project)
        services.order_annex_add(order=order, by=by, beneficiaries=group,
                                 lines={"beneficiaries": {b.pk: i + 1 for i, b in enumerate(group)}})
        beneficiaries += group
    return beneficiaries


def approve_all(beneficiaries: list, *, via_services: int, clerk, lawyer) -> None:
    """One approved transfer per beneficiary of its set: the first `via_services` through the services, the
    others written as they write them, with the approval's legal check computed by the real check."""
    from django.db import transaction
    from django.utils import timezone

    from assets.models import Device
    from donations import services
    from donations.choices import TransferEventKind, TransferStatus
    from donations.legal import check_devices
    from donations.models import MayoralOrder, Transfer, TransferEvent, TransferItem
    from loans.models import Loan

    orders = {o.project_id: o for o in MayoralOrder.objects.all()}
    held: dict[int, list] = {}
    for device in Device.objects.filter(loan_items__is_open=True).order_by("inventory_number"):
        held.setdefault(device.kit_id, []).append(device)
    loans_kit = dict(Loan.objects.values_list("recipient_id", "kit_id"))

    for beneficiary in beneficiaries[:via_services]:
        transfer = services.transfer_create(order=orders[beneficiary.project_id], recipient=beneficiary.recipient,
                                            transfer_date=TRANSFER_DATE, by=clerk,
                                            devices=held[loans_kit[beneficiary.recipient_id]])
        transfer = services.transfer_submit(transfer=transfer, by=clerk)
        services.transfer_approve(transfer=transfer, by=lawyer, reason="zgodnie z zarządzeniem")

    rest = beneficiaries[via_services:]
    start = via_services + 1
    for chunk in range(0, len(rest), 1000):
        group = rest[chunk:chunk + 1000]
        with transaction.atomic():
            now = timezone.now()
            transfers = []
            for i, beneficiary in enumerate(group):
                devices = held[loans_kit[beneficiary.recipient_id]]
                order = orders[beneficiary.project_id]
                checks = [r.as_dict() for r in check_devices(order=order, recipient=beneficiary.recipient,
                                                             on=TRANSFER_DATE, devices=devices)]
                transfers.append(Transfer(number=f"PN/2021/{start + chunk + i:04d}", order=order,
                                          recipient=beneficiary.recipient, transfer_date=TRANSFER_DATE,
                                          status=TransferStatus.DRAFT, created_by=clerk, checks=[]))
                transfers[-1]._devices, transfers[-1]._checks = devices, checks
            Transfer.objects.bulk_create(transfers, batch_size=500)
            _history(Transfer, transfers, reason="transfer prepared", when=now)
            TransferItem.objects.bulk_create([TransferItem(transfer=t, device=d) for t in transfers for d in t._devices],
                                             batch_size=500)
            events = [TransferEvent(transfer=t, kind=TransferEventKind.CREATED, actor=clerk, occurred_at=now,
                                    to_status=TransferStatus.DRAFT,
                                    reason=", ".join(d.inventory_number for d in t._devices)) for t in transfers]
            for t in transfers:
                t.status, t.checks = TransferStatus.SUBMITTED, t._checks
            _history(Transfer, transfers, reason="submitted for legal review", when=now, update=True)
            events += [TransferEvent(transfer=t, kind=TransferEventKind.SUBMITTED, actor=clerk, occurred_at=now,
                                     from_status=TransferStatus.DRAFT, to_status=TransferStatus.SUBMITTED)
                       for t in transfers]
            for t in transfers:
                t.status, t.decided_at, t.decided_by = TransferStatus.APPROVED, now, lawyer
                t.decision_reason = "zgodnie z zarządzeniem"
            Transfer.objects.bulk_update(transfers, ["status", "checks", "decided_at", "decided_by", "decision_reason"],
                                         batch_size=500)
            _history(Transfer, transfers, reason="approved", when=now, update=True)
            events += [TransferEvent(transfer=t, kind=TransferEventKind.APPROVED, actor=lawyer, occurred_at=now,
                                     from_status=TransferStatus.SUBMITTED, to_status=TransferStatus.APPROVED,
                                     reason="zgodnie z zarządzeniem") for t in transfers]
            TransferEvent.objects.bulk_create(events, batch_size=500)


# --- the measurements -----------------------------------------------------------------------------

class QueryCounter:
    """Counts the queries of the default connection (cheaper than capturing them all)."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def machine_line() -> str:
    import django
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SHOW server_version")
            version = f"PostgreSQL {cursor.fetchone()[0].split()[0]}"
        else:
            cursor.execute("SELECT sqlite_version()")
            version = f"SQLite {cursor.fetchone()[0]}"
    try:
        load = "load average %.2f %.2f %.2f" % os.getloadavg()
    except OSError:
        load = ""
    return (f"machine: {platform.machine()}, {os.cpu_count()} cores (shared with other work; {load}), "
            f"Python {platform.python_version()}, Django {django.get_version()}, {version}")


def run(n: int, *, via_services: int, samples: int, profile: bool) -> None:
    from django.db import connection
    from django.urls import reverse
    from django.utils import translation

    from core import pdf
    from core.choices import DocumentKind
    from core.services import document_issue
    from donations import documents
    from donations.legal import legal_check
    from donations.models import Beneficiary, Transfer, TransferItem
    from donations.services import transfer_complete

    translation.activate("pl")
    print(machine_line())
    clerk, lawyer = _users()
    start = time.perf_counter()
    beneficiaries = build_register(n, by=clerk)
    built = time.perf_counter() - start
    start = time.perf_counter()
    approve_all(beneficiaries, via_services=via_services, clerk=clerk, lawyer=lawyer)
    approved = time.perf_counter() - start
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    print(f"setup: {n:,} households with their sets on loan in {built:.1f} s; {n:,} approved transfers in "
          f"{approved:.1f} s ({via_services} through the services)")

    transfers = list(Transfer.objects.order_by("pk").values_list("pk", flat=True))
    sample = transfers[:: max(1, len(transfers) // samples)][:samples]

    # (c) the legal check alone, on approved transfers, before they are completed
    start = time.perf_counter()
    counter = QueryCounter()
    with connection.execute_wrapper(counter):
        for pk in sample:
            legal_check(Transfer.objects.select_related("order", "recipient").get(pk=pk))
    check_time = (time.perf_counter() - start) / len(sample)
    check_queries = counter.count / len(sample)

    # the completions, one by one, as one worker does them; a worker loads the URLs (the verification
    # address on every page) once when it starts, not per protocol
    reverse("verify", kwargs={"code": "ABCDE-12345"})
    times: list[float] = []
    counter = QueryCounter()
    profiler = cProfile.Profile() if profile else None
    with connection.execute_wrapper(counter):
        begin, cpu = time.perf_counter(), time.process_time()
        for pk in transfers:
            t0 = time.perf_counter()
            if profiler:
                profiler.enable()
            transfer_complete(transfer=Transfer(pk=pk), by=clerk)
            if profiler:
                profiler.disable()
            times.append(time.perf_counter() - t0)
        total, cpu = time.perf_counter() - begin, time.process_time() - cpu
    assert Transfer.objects.filter(status="completed", protocol__isnull=False).count() == n

    # (a) the protocol rendered alone and (b) issued alone, for the same transfers as they were completed
    loaded = []
    for pk in sample:
        transfer = Transfer.objects.select_related("order", "recipient", "decided_by").get(pk=pk)
        items = list(TransferItem.objects.filter(transfer=transfer).select_related("device")
                     .order_by("device__inventory_number"))
        beneficiary = Beneficiary.objects.filter(recipient_id=transfer.recipient_id).select_related("project").first()
        loaded.append((transfer, items, beneficiary))
    stamp = pdf.Stamp(code="ABCDE-12345", verify_url="https://sprzet.leszno.pl/verify/ABCDE-12345/",
                      issued_at=datetime(2021, 7, 1, 10, 0).astimezone(), issuer="Paweł Wiśniewski")
    start, cpu = time.perf_counter(), time.process_time()
    for transfer, items, beneficiary in loaded:
        title = f"Protokół nieodpłatnego przekazania nr {transfer.number}"
        pdf.render(title=title, story=documents._transfer_story(transfer, items, beneficiary), stamp=stamp)
    render_time = (time.perf_counter() - start) / len(loaded)
    render_cpu = (time.process_time() - cpu) / len(loaded)
    counter_issue = QueryCounter()
    start = time.perf_counter()
    with connection.execute_wrapper(counter_issue):
        for transfer, items, beneficiary in loaded:
            title = f"Protokół nieodpłatnego przekazania nr {transfer.number}"
            document_issue(kind=DocumentKind.TRANSFER_PROTOCOL, title=title, subject=transfer, by=clerk,
                           template_version=documents.TRANSFER_PROTOCOL_TEMPLATE,
                           build=lambda s, t=transfer, i=items, b=beneficiary: pdf.render(
                               title=title, story=documents._transfer_story(t, i, b), stamp=s))
    issue_time = (time.perf_counter() - start) / len(loaded)

    rate = n / total
    ms = [t * 1000 for t in times]
    print(f"transfer_complete x {n:,}, one by one: {rate:,.1f} protocols/s ({total:.1f} s); per protocol "
          f"p50 {statistics.median(ms):.1f} ms, p95 {_percentile(ms, 0.95):.1f} ms; "
          f"{counter.count / n:.1f} queries per completion; this process's CPU {cpu / n * 1000:.1f} ms per protocol "
          f"| target {TARGET_PER_SECOND}/s: {'met' if rate >= TARGET_PER_SECOND else 'MISSED'}")
    print(f"baseline (a) the protocol PDF rendered alone (no database), {len(loaded)} protocols: "
          f"{render_time * 1000:.1f} ms each, {1 / render_time:,.1f}/s (CPU {render_cpu * 1000:.1f} ms)")
    print(f"baseline (b) document_issue alone (code, render, store), {len(loaded)} protocols: "
          f"{issue_time * 1000:.1f} ms each, {1 / issue_time:,.1f}/s, {counter_issue.count / len(loaded):.1f} queries")
    print(f"baseline (c) the legal check alone, {len(sample)} transfers: {check_time * 1000:.1f} ms each, "
          f"{check_queries:.1f} queries")
    print(f"the rest of a completion (locks, devices, loans, events, history): "
          f"{max(0.0, statistics.mean(ms) - issue_time * 1000 - check_time * 1000):.1f} ms")
    if profiler:
        stats = pstats.Stats(profiler)
        stats.sort_stats("cumulative").print_stats(45)
        stats.sort_stats("tottime").print_stats(25)


if __name__ == "__main__":
    main()
