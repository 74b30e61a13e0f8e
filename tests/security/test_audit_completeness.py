"""Audit completeness: every state-changing API operation and admin action writes its trail with the actor.

The operations come from tests/security/surface.py (the URL configuration and the admin site), not from a
list kept by hand: an endpoint or action added later fails `test_every_*_has_a_recipe` until it gets a
recipe here, the minimal request that makes it succeed as a role allowed to do it. Each recipe then runs
and the test asserts what an auditor relies on: a new row of the expected event model (or history table,
for records without one) naming the calling user, and no event or history row written in that request
that names someone else or nobody. GET requests write nothing at all.
"""
from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pytest
from django.apps import apps
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from core.roles import Role
from tests.factories import (
    UserFactory,
    allocate,
    lend_tablet,
    make_beneficiary,
    make_contract,
    make_councillor,
    make_device,
    make_medium,
    make_order,
    make_project,
    make_retired,
    make_set,
    make_supplier,
    make_term,
    sanitize,
    valid_nip,
    wipe_facts,
)
from tests.security import surface

pytestmark = pytest.mark.django_db

IT, PM, LEGAL = Role.IT_OFFICE, Role.PROJECT_MANAGER, Role.LEGAL_OFFICE
WRITES = {"POST", "PUT", "PATCH", "DELETE"}
MINIMAL_PDF = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj 2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n"
               b"trailer<</Root 1 0 R>>\n%%EOF\n")
WIPE_SAMPLES = Path(__file__).resolve().parent.parent / "wipe" / "samples"


# --- the audit trail: which rows say who did what ---------------------------------------------------

# Records that are themselves the trail of an act, with the field naming who did it.
TRAIL_RECORDS = {
    "core.storeddocument": "issued_by",
    "core.importbatch": "created_by",
    "reports.issuedreport": "issued_by",
    "donations.obligationrecord": "recorded_by",
    "donations.projectdevice": "added_by",
    "wipe.custodyentry": "recorded_by",
    "wipe.wipeevidence": "uploaded_by",
    "faults.faultreply": "author",
    "loans.loansetupstep": "done_by",
    "admin.logentry": "user",
    "core.anonymisation": "anonymised_by",
}


def trail_models() -> dict[str, tuple[type, str]]:
    """label -> (model, actor field): every event model, every history table, and the records above."""
    found = {}
    for model in apps.get_models():
        label = model._meta.label_lower
        names = {f.name for f in model._meta.get_fields()}
        if model._meta.model_name.startswith("historical") and "history_user" in names:
            found[label] = (model, "history_user")
        elif model.__name__.endswith("Event") and "actor" in names:
            found[label] = (model, "actor")
        elif label in TRAIL_RECORDS:
            found[label] = (model, TRAIL_RECORDS[label])
    return found


def is_strict(label: str) -> bool:
    """Event rows and history rows must all name the caller; the other trail records are checked per recipe."""
    return label.split(".")[1].startswith("historical") or label.endswith("event")


class Trail:
    """What one request added to the audit trail: new rows per model, by primary key."""

    def __init__(self):
        self.models = trail_models()
        self.before = {label: self._top(model) for label, (model, _f) in self.models.items()}

    @staticmethod
    def _top(model) -> int:
        last = model._default_manager.order_by("-pk").values_list("pk", flat=True).first()
        return last or 0

    def new(self) -> dict[str, list[tuple[int, int | None]]]:
        """label -> [(pk, actor id)] of the rows added since the snapshot."""
        added = {}
        for label, (model, actor) in self.models.items():
            rows = list(model._default_manager.filter(pk__gt=self.before[label]).values_list("pk", f"{actor}_id"))
            if rows:
                added[label] = rows
        return added


def assert_trail(trail: Trail, user, expect: tuple[str, ...], what: str) -> None:
    added = trail.new()
    for label in expect:
        actors = [actor for _pk, actor in added.get(label, [])]
        assert user.pk in actors, f"{what}: no new {label} row naming the caller {user} (new rows: {added})"
    for label, rows in added.items():
        if is_strict(label):
            strangers = [(pk, actor) for pk, actor in rows if actor != user.pk]
            assert not strangers, f"{what}: {label} rows {strangers} do not name the caller {user}"


def assert_no_trail(trail: Trail, what: str) -> None:
    added = trail.new()
    assert not added, f"{what} wrote audit rows: {added}"


# --- recipes ----------------------------------------------------------------------------------------

@dataclass
class Call:
    url: str
    data: dict = field(default_factory=dict)
    fmt: str = "json"


@dataclass
class Recipe:
    role: str
    build: Callable[..., Call]
    expect: tuple[str, ...]
    status: tuple[int, ...] = (200, 201, 204)


API_RECIPES: dict[tuple[str, str], Recipe] = {}

# Operations that change no record by design, with the reason; each still runs and must write no trail.
API_EXCEPTIONS: dict[tuple[str, str], str] = {
    ("api-token", "POST"): "signing in for a token changes no record of the register (the sign-in is "
                           "logged by django-axes, the token is the caller's own credential)",
    ("sanitization-detail", "DELETE"): "a sanitization record is evidence and is never deleted: the request "
                                       "is refused with 409 and the reason",
}
EXCEPTION_RECIPES: dict[tuple[str, str], Recipe] = {}


def recipe(route: str, method: str, role: str, *expect: str, status=(200, 201, 204)):
    def register(build):
        target = EXCEPTION_RECIPES if (route, method) in API_EXCEPTIONS else API_RECIPES
        target[(route, method)] = Recipe(role=role, build=build, expect=expect, status=status)
        return build
    return register


def url(name: str, pk=None) -> str:
    return reverse(name, kwargs={"pk": pk}) if pk is not None else reverse(name)


def pdf(name="skan.pdf"):
    return SimpleUploadedFile(name, MINIMAL_PDF, content_type="application/pdf")


def other_it():
    return UserFactory(roles=[IT])


def device_payload(**overrides) -> dict:
    n = next(_numbers)
    data = {"inventory_number": f"AUD/{n:04d}", "kind": "tablet", "manufacturer": "Samsung",
            "model": "Galaxy Tab S6 Lite", "serial_number": f"AUDSN{n:06d}", "purchase_date": "2020-04-15",
            "purchase_price": "1899.00"}
    data.update(overrides)
    return data


_numbers = iter(range(1, 10**6))


def household():
    project = make_project()
    beneficiary = make_beneficiary(project)
    kit = make_set(project)
    allocate(beneficiary, kit)
    return beneficiary, kit


def held_fault(status: str = "new"):
    from faults import services as fault_services

    recipient = make_councillor()
    loan = lend_tablet(recipient)
    device = loan.items.get().device
    fault = fault_services.fault_report(by=recipient.user, device=device, category="hardware",
                                        description="Ekran miga.", contact="600 100 200")
    if status != "new":
        fault = fault_services.fault_acknowledge(fault=fault, by=None, reply="")
    return fault


def recorded_wipe(device=None):
    from wipe import services as wipe_services

    device = device or make_retired(kinds=("hdd",))
    return wipe_services.sanitization_record(by=other_it(), medium=device.media.get(), **wipe_facts())


def result_payload(medium) -> dict:
    data = {key: (value.isoformat() if hasattr(value, "isoformat") else value) for key, value in wipe_facts().items()}
    return {**data, "medium": medium.pk, "passed": True}


def submitted_transfer():
    from donations import services as donation_services

    beneficiary, kit = household()
    order = make_order(annex_beneficiaries=[beneficiary])
    manager = UserFactory(roles=[PM])
    transfer = donation_services.transfer_create(order=order, recipient=beneficiary.recipient,
                                                 transfer_date=date(2021, 7, 1), kits=[kit], by=manager)
    return donation_services.transfer_submit(transfer=transfer, by=manager)


def offer_form(**overrides) -> dict:
    n = next(_numbers)
    data = {"donor_name": "Jan Darczyńca", "donor_contact": "jan@example.test", "offered_on": "2021-09-01",
            "kind": "laptop", "manufacturer": "Dell", "model": "Latitude E7470", "serial_number": f"5CG{n:07d}",
            "legal_source": "invoice", "legal_source_reference": "FV 2017/03/118",
            "software_licences": "Windows 10 Pro OEM", "free_of_charge_declared": "true"}
    data.update(overrides)
    return data


def make_offer():
    from donations import services as donation_services

    data = {**offer_form(), "offered_on": date(2021, 9, 1), "free_of_charge_declared": True}
    return donation_services.donation_offer_create(by=None, **data)


def order_form(**overrides) -> dict:
    data = {"number": f"{next(_numbers)}/2021", "signed_on": "2021-06-14", "signatory": "Prezydent Miasta",
            "title": "w sprawie nieodpłatnego przekazania sprzętu", "legal_basis": "art. 30 ust. 2 pkt 3 u.s.g.",
            "kind": "free_transfer", "in_force_from": "2021-06-14"}
    data.update(overrides)
    return data


def project_form(manager) -> dict:
    return {"name": f"e-Inclusion {next(_numbers)}", "programme": "POIG 8.3 eInclusion",
            "agreement_number": f"POIG.08.03.00-30-{next(_numbers):03d}/12", "starts_on": "2013-01-02",
            "ends_on": "2015-12-31", "final_payment_on": "2016-03-31", "durability_years": 5, "manager": manager.pk}


def beneficiary_form(project) -> dict:
    return {"project": project.pk, "code": f"EI/GD/{next(_numbers):03d}", "kind": "household",
            "name": "Gospodarstwo Nowaków", "eligibility_basis": "decyzja MOPS"}


def imported_loan():
    """A loan as an import from an older system leaves it: no agreement (see tests/loans/test_agreement_reissue)."""
    from assets.models import Device
    from loans import services as loan_services
    from loans.models import Loan, LoanItem

    recipient = loan_services.recipient_create(by=None, kind="staff", name="Adam Pracownik", address="ul. Rynek 1")
    device = make_device()
    loan = Loan.objects.create(recipient=recipient, purpose="staff_work", starts_on=date(2019, 2, 1),
                               planned_end_on=date(2030, 1, 31), condition_at_handover="używany")
    LoanItem.objects.create(loan=loan, device=device, is_open=True)
    Device.objects.filter(pk=device.pk).update(status="on_loan")
    return loan


# assets ---------------------------------------------------------------------------------------------

@recipe("supplier-list", "POST", IT, "assets.historicalsupplier")
def _(user):
    return Call(url("supplier-list"), {"name": "Infover S.A.", "nip": valid_nip(next(_numbers)), "address": "Kielce"})


@recipe("supplier-detail", "PUT", IT, "assets.historicalsupplier")
def _(user):
    supplier = make_supplier()
    return Call(url("supplier-detail", supplier.pk), {"name": "Nowa nazwa", "nip": supplier.nip, "address": "Kielce"})


@recipe("supplier-detail", "PATCH", IT, "assets.historicalsupplier")
def _(user):
    return Call(url("supplier-detail", make_supplier().pk), {"phone": "41 000 00 00"})


def contract_form(supplier) -> dict:
    return {"number": f"BRM/{next(_numbers)}/2020", "signed_on": "2020-04-10", "supplier": supplier.pk,
            "value": "1000.00", "funding_source": "mayors_reserve", "procurement_basis": "art. 6"}


@recipe("contract-list", "POST", IT, "assets.historicalcontract")
def _(user):
    return Call(url("contract-list"), contract_form(make_supplier()))


@recipe("contract-detail", "PUT", IT, "assets.historicalcontract")
def _(user):
    contract = make_contract()
    return Call(url("contract-detail", contract.pk), {**contract_form(contract.supplier), "value": "2000.00"})


@recipe("contract-detail", "PATCH", IT, "assets.historicalcontract")
def _(user):
    return Call(url("contract-detail", make_contract().pk), {"value": "2000.00"})


@recipe("storage-medium-list", "POST", IT, "assets.historicalstoragemedium")
def _(user):
    return Call(url("storage-medium-list"), {"device": make_device().pk, "kind": "ssd",
                                             "serial_number": f"DISK-{next(_numbers)}", "capacity_gb": 256})


@recipe("storage-medium-detail", "PUT", IT, "assets.historicalstoragemedium")
def _(user):
    medium = make_medium(device=make_device())
    return Call(url("storage-medium-detail", medium.pk), {"device": medium.device_id, "kind": "ssd",
                                                          "serial_number": medium.serial_number, "capacity_gb": 512})


@recipe("storage-medium-detail", "PATCH", IT, "assets.historicalstoragemedium")
def _(user):
    return Call(url("storage-medium-detail", make_medium(device=make_device()).pk), {"capacity_gb": 512})


@recipe("kit-list", "POST", IT, "assets.historicalkit")
def _(user):
    return Call(url("kit-list"), {"code": f"K-{next(_numbers)}", "name": "zestaw", "devices": [make_device().pk]})


def make_kit():
    from assets import services

    return services.kit_create(code=f"K-{next(_numbers)}", name="zestaw", devices=[make_device()], by=None)


@recipe("kit-detail", "PUT", IT, "assets.historicalkit")
def _(user):
    kit = make_kit()
    return Call(url("kit-detail", kit.pk), {"code": kit.code, "name": "zestaw biurowy",
                                            "devices": list(kit.devices.values_list("pk", flat=True))})


@recipe("kit-detail", "PATCH", IT, "assets.historicalkit")
def _(user):
    return Call(url("kit-detail", make_kit().pk), {"notes": "w szafie"})


@recipe("device-list", "POST", IT, "assets.deviceevent", "assets.historicaldevice")
def _(user):
    return Call(url("device-list"), device_payload())


@recipe("device-detail", "PUT", IT, "assets.historicaldevice")
def _(user):
    device = make_device()
    return Call(url("device-detail", device.pk), device_payload(inventory_number=device.inventory_number,
                                                                serial_number=device.serial_number, location="pok. 7"))


@recipe("device-detail", "PATCH", IT, "assets.historicaldevice")
def _(user):
    return Call(url("device-detail", make_device().pk), {"location": "pokój 7"})


@recipe("device-put-in-use", "POST", IT, "assets.deviceevent", "assets.historicaldevice")
def _(user):
    return Call(url("device-put-in-use", make_device().pk), {"location": "pokój 7"})


@recipe("device-send-to-repair", "POST", IT, "assets.deviceevent", "assets.historicaldevice")
def _(user):
    return Call(url("device-send-to-repair", make_device().pk), {"reason": "nie ładuje się"})


@recipe("device-return-to-stock", "POST", IT, "assets.deviceevent", "assets.historicaldevice")
def _(user):
    from assets import services

    device = make_device()
    services.device_send_to_repair(device=device, by=None, reason="bateria")
    return Call(url("device-return-to-stock", device.pk), {})


@recipe("device-retire", "POST", IT, "assets.deviceevent", "assets.historicaldevice")
def _(user):
    return Call(url("device-retire", make_device(purchase_date=date(2010, 5, 1)).pk),
                {"retirement_reason": "end_of_life"})


@recipe("device-report-lost", "POST", IT, "assets.deviceevent", "assets.historicaldevice")
def _(user):
    return Call(url("device-report-lost", make_device().pk), {"reference": "KMP-123/2024"})


@recipe("device-record-card", "POST", IT, "core.storeddocument")
def _(user):
    return Call(url("device-record-card", make_device().pk))


# loans ----------------------------------------------------------------------------------------------

@recipe("recipient-list", "POST", IT, "loans.historicalrecipient")
def _(user):
    return Call(url("recipient-list"), {"kind": "staff", "name": "Adam Pracownik"})


def make_recipient():
    from loans import services as loan_services

    return loan_services.recipient_create(by=None, kind="staff", name="Adam Pracownik")


@recipe("recipient-detail", "PUT", IT, "loans.historicalrecipient")
def _(user):
    return Call(url("recipient-detail", make_recipient().pk), {"kind": "staff", "name": "Adam Nowy"})


@recipe("recipient-detail", "PATCH", IT, "loans.historicalrecipient")
def _(user):
    return Call(url("recipient-detail", make_recipient().pk), {"phone": "600 000 000"})


@recipe("council-term-list", "POST", IT, "loans.historicalcouncilterm")
def _(user):
    return Call(url("council-term-list"), {"council": "Rada Miasta Kielce", "name": f"kadencja {next(_numbers)}",
                                           "starts_on": "2024-05-07", "ends_on": "2029-05-06"})


@recipe("council-term-change-end", "POST", IT, "loans.historicalcouncilterm")
def _(user):
    return Call(url("council-term-change-end", make_term().pk), {"ends_on": "2029-06-30"})


@recipe("loan-list", "POST", IT, "loans.loanevent", "loans.historicalloan", "assets.deviceevent")
def _(user):
    return Call(url("loan-list"), {"recipient": make_councillor().pk, "purpose": "council_sessions",
                                   "council_term": make_term().pk, "devices": [make_device(kind="tablet").pk],
                                   "starts_on": "2020-04-16", "condition_at_handover": "nowy"})


@recipe("loan-extend", "POST", IT, "loans.loanevent", "loans.historicalloan")
def _(user):
    return Call(url("loan-extend", lend_tablet(make_councillor()).pk), {"planned_end_on": "2031-01-01"})


@recipe("loan-return-loan", "POST", IT, "loans.loanevent", "loans.historicalloan", "assets.deviceevent")
def _(user):
    return Call(url("loan-return-loan", lend_tablet(make_councillor()).pk), {"condition": "sprawny",
                                                                            "returned_on": "2023-11-30"})


@recipe("loan-mark-lost", "POST", IT, "loans.loanevent", "loans.historicalloan", "assets.deviceevent")
def _(user):
    return Call(url("loan-mark-lost", lend_tablet(make_councillor()).pk), {"reference": "KMP-1/2024"})


@recipe("loan-setup-step", "POST", IT, "loans.loansetupstep", "loans.loanevent")
def _(user):
    return Call(url("loan-setup-step", lend_tablet(make_councillor()).pk), {"step": "personalised",
                                                                           "done_on": "2020-04-20"})


@recipe("loan-issue-agreement", "POST", IT, "loans.loanevent", "core.storeddocument")
def _(user):
    return Call(url("loan-issue-agreement", imported_loan().pk))


@recipe("loan-finding-settle", "POST", IT, "loans.historicalloanfinding")
def _(user):
    from loans import services as loan_services

    loan = lend_tablet(make_councillor())
    loan_services.loan_return(loan=loan, by=None, condition="ok", findings=["brak etui"])
    return Call(url("loan-finding-settle", loan.findings.first().pk), {"settlement": "etui oddane"})


# faults ---------------------------------------------------------------------------------------------

@recipe("fault-list", "POST", Role.COUNCILLOR, "faults.faultevent", "faults.historicalfaultreport")
def _(user):
    from loans import services as loan_services

    recipient = loan_services.recipient_create(by=None, kind="councillor", name=user.get_full_name(), user=user)
    device = lend_tablet(recipient).items.get().device
    return Call(url("fault-list"), {"device": device.pk, "category": "hardware", "description": "Ekran miga.",
                                    "contact": "600 100 200"})


@recipe("fault-acknowledge", "POST", IT, "faults.faultevent", "faults.historicalfaultreport")
def _(user):
    return Call(url("fault-acknowledge", held_fault().pk), {})


@recipe("fault-reject", "POST", IT, "faults.faultevent", "faults.historicalfaultreport")
def _(user):
    return Call(url("fault-reject", held_fault().pk), {"reply": "To nie usterka."})


@recipe("fault-start-work", "POST", IT, "faults.faultevent", "faults.historicalfaultreport")
def _(user):
    return Call(url("fault-start-work", held_fault("acknowledged").pk), {"take_into_repair": True})


@recipe("fault-resolve", "POST", IT, "faults.faultevent", "faults.historicalfaultreport")
def _(user):
    return Call(url("fault-resolve", held_fault("acknowledged").pk), {"reply": "Naprawiono."})


@recipe("fault-replace", "POST", IT, "faults.faultevent", "loans.loanevent", "assets.deviceevent")
def _(user):
    return Call(url("fault-replace", held_fault("acknowledged").pk), {"replacement": make_device(kind="tablet").pk})


@recipe("fault-reply", "POST", IT, "faults.faultreply")
def _(user):
    return Call(url("fault-reply", held_fault().pk), {"body": "Proszę o telefon."})


# wipe -----------------------------------------------------------------------------------------------

@recipe("sanitization-list", "POST", IT, "wipe.wipeevent", "wipe.historicalsanitization")
def _(user):
    return Call(url("sanitization-list"), result_payload(make_retired(kinds=("hdd",)).media.get()))


@recipe("sanitization-detail", "PUT", IT, "wipe.historicalsanitization")
def _(user):
    return Call(url("sanitization-detail", recorded_wipe().pk), {"overwrite_passes": 3})


@recipe("sanitization-detail", "PATCH", IT, "wipe.historicalsanitization")
def _(user):
    return Call(url("sanitization-detail", recorded_wipe().pk), {"notes": "raport w teczce"})


@recipe("sanitization-detail", "DELETE", IT, status=(409,))
def _(user):
    return Call(url("sanitization-detail", recorded_wipe().pk))


@recipe("sanitization-validate", "POST", IT, "wipe.wipeevent", "wipe.historicalsanitization")
def _(user):
    return Call(url("sanitization-validate", recorded_wipe().pk), {})


@recipe("sanitization-reject", "POST", IT, "wipe.wipeevent", "wipe.historicalsanitization")
def _(user):
    return Call(url("sanitization-reject", recorded_wipe().pk), {"reason": "brak raportu narzędzia"})


@recipe("sanitization-correct", "POST", IT, "wipe.wipeevent", "wipe.historicalsanitization")
def _(user):
    from wipe import services as wipe_services

    record = recorded_wipe()
    wipe_services.sanitization_validate(sanitization=record, by=other_it())
    return Call(url("sanitization-correct", record.pk), {"pattern": "losowe", "correction_reason": "literówka"})


@recipe("disk-removal-list", "POST", IT, "wipe.wipeevent", "wipe.historicaldiskremoval", "wipe.custodyentry")
def _(user):
    laptop = make_retired(kinds=("hdd",))
    return Call(url("disk-removal-list"), {"medium": laptop.media.get().pk, "kept_at": "sejf", "held_by": "Jan"})


def held_disk():
    from wipe import services as wipe_services

    return wipe_services.disk_remove(medium=make_retired(kinds=("hdd",)).media.get(), by=other_it(),
                                     kept_at="sejf", held_by="Jan")


@recipe("disk-removal-custody", "POST", IT, "wipe.custodyentry")
def _(user):
    return Call(url("disk-removal-custody", held_disk().pk), {"kept_at": "magazyn", "handed_to": "Grażyna"})


@recipe("disk-removal-record-destruction", "POST", IT, "wipe.wipeevent", "wipe.historicaldiskremoval")
def _(user):
    return Call(url("disk-removal-record-destruction", held_disk().pk), {
        "destroyed_on": date.today().isoformat(), "destruction_method": "shred", "destruction_company": "Eko",
        "certificate_number": "CN/1", "certificate_scan": pdf("cert.pdf")}, fmt="multipart")


@recipe("wipe-session-list", "POST", IT, "wipe.wipeevent", "wipe.historicalwipesession")
def _(user):
    return Call(url("wipe-session-list"), {"devices": [make_retired(kinds=("hdd",)).pk], "location": "pok. 12"})


def open_session(*devices):
    from wipe import services as wipe_services

    return wipe_services.session_open(by=other_it(), devices=list(devices) or [make_retired(kinds=("hdd",))],
                                      location="pok. 12")


@recipe("wipe-session-record-result", "POST", IT, "wipe.wipeevent", "wipe.historicalsanitization")
def _(user):
    laptop = make_retired(kinds=("hdd",))
    return Call(url("wipe-session-record-result", open_session(laptop).pk), result_payload(laptop.media.get()))


@recipe("wipe-session-close", "POST", IT, "wipe.wipeevent", "wipe.historicalwipesession", "assets.deviceevent")
def _(user):
    from wipe import services as wipe_services

    laptop = make_retired(kinds=("hdd",))
    session = open_session(laptop)
    wipe_services.session_record_result(session=session, by=other_it(), medium=laptop.media.get(), passed=True,
                                        **wipe_facts())
    return Call(url("wipe-session-close", session.pk), {})


@recipe("wipe-session-retry", "POST", IT, "wipe.wipeevent", "wipe.historicalwipesession")
def _(user):
    from wipe import services as wipe_services

    laptop = make_retired(kinds=("hdd",))
    session = open_session(laptop)
    wipe_services.session_record_result(session=session, by=other_it(), medium=laptop.media.get(), passed=False,
                                        failure_reason="nwipe: aborted")
    wipe_services.session_close(session=session, by=other_it())
    return Call(url("wipe-session-retry", session.pk), {})


@recipe("wipe-report-list", "POST", IT, "wipe.wipeevidence", "wipe.historicalsanitization")
def _(user):
    laptop = make_retired(kinds=())
    make_medium(device=laptop, kind="hdd", serial_number="S3Z1NB0K100001", capacity_gb=250)
    content = (WIPE_SAMPLES / "zero_2drives.serials.log").read_bytes()
    return Call(url("wipe-report-list"), {"file": SimpleUploadedFile("zero.log", content), "location": "pok. 12"},
                fmt="multipart")


@recipe("device-to-sanitize-sanitize", "POST", IT, "assets.deviceevent", "assets.historicaldevice",
        "core.storeddocument")
def _(user):
    from wipe import services as wipe_services

    laptop = make_retired(kinds=("hdd",))
    record = wipe_services.sanitization_record(by=other_it(), medium=laptop.media.get(), **wipe_facts())
    wipe_services.sanitization_validate(sanitization=record, by=other_it())
    return Call(url("device-to-sanitize-sanitize", laptop.pk), {})


@recipe("device-to-sanitize-confirm-no-media", "POST", IT, "wipe.historicalnomediaconfirmation")
def _(user):
    return Call(url("device-to-sanitize-confirm-no-media", make_retired(kinds=(), kind="monitor").pk),
                {"how_checked": "obudowa otwarta, brak dysku"})


# donations ------------------------------------------------------------------------------------------

@recipe("grant-project-list", "POST", PM, "donations.historicalgrantproject")
def _(user):
    return Call(url("grant-project-list"), project_form(user))


@recipe("grant-project-detail", "PUT", PM, "donations.historicalgrantproject")
def _(user):
    return Call(url("grant-project-detail", make_project().pk), {**project_form(user), "durability_years": 6})


@recipe("grant-project-detail", "PATCH", PM, "donations.historicalgrantproject")
def _(user):
    return Call(url("grant-project-detail", make_project().pk), {"durability_years": 6})


@recipe("grant-project-add-devices", "POST", PM, "donations.projectdevice")
def _(user):
    return Call(url("grant-project-add-devices", make_project().pk), {"devices": [make_device().pk]})


@recipe("grant-project-durability-report", "POST", PM, "core.storeddocument")
def _(user):
    beneficiary, _kit = household()
    return Call(url("grant-project-durability-report", beneficiary.project_id), {"on": "2021-04-01"})


@recipe("beneficiary-list", "POST", PM, "donations.historicalbeneficiary", "loans.historicalrecipient")
def _(user):
    return Call(url("beneficiary-list"), beneficiary_form(make_project()))


@recipe("beneficiary-detail", "PUT", PM, "donations.historicalbeneficiary")
def _(user):
    beneficiary = make_beneficiary(make_project())
    return Call(url("beneficiary-detail", beneficiary.pk), {**beneficiary_form(beneficiary.project),
                                                            "code": beneficiary.code, "notes": "dzwonić po 16"})


@recipe("beneficiary-detail", "PATCH", PM, "donations.historicalbeneficiary")
def _(user):
    return Call(url("beneficiary-detail", make_beneficiary(make_project()).pk), {"notes": "dzwonić po 16"})


@recipe("beneficiary-allocate", "POST", PM, "loans.loanevent", "assets.deviceevent")
def _(user):
    project = make_project()
    return Call(url("beneficiary-allocate", make_beneficiary(project).pk), {"kit": make_set(project).pk,
                                                                            "starts_on": "2014-04-01"})


@recipe("obligation-list", "POST", PM, "donations.historicalprojectobligation")
def _(user):
    return Call(url("obligation-list"), {"project": make_project().pk, "kind": "internet",
                                         "description": "Internet", "applies_to": "household"})


def make_obligation(project):
    from donations import services as donation_services

    return donation_services.obligation_create(project=project, kind="servicing", description="serwis", by=None)


@recipe("obligation-record", "POST", PM, "donations.obligationrecord")
def _(user):
    project = make_project()
    beneficiary = make_beneficiary(project)
    return Call(url("obligation-record", make_obligation(project).pk), {
        "beneficiary": beneficiary.pk, "month": "2016-04", "proof_reference": "FV 12/04/2016"})


@recipe("obligation-record-month", "POST", PM, "donations.obligationrecord")
def _(user):
    project = make_project()
    make_beneficiary(project)
    return Call(url("obligation-record-month", make_obligation(project).pk), {"month": "2016-05",
                                                                             "proof_reference": "FV 5/2016"})


@recipe("mayoral-order-list", "POST", LEGAL, "donations.historicalmayoralorder")
def _(user):
    return Call(url("mayoral-order-list"), order_form())


@recipe("mayoral-order-detail", "PUT", LEGAL, "donations.historicalmayoralorder")
def _(user):
    order = make_order()
    return Call(url("mayoral-order-detail", order.pk), order_form(number=order.number, title="poprawiony tytuł"))


@recipe("mayoral-order-detail", "PATCH", LEGAL, "donations.historicalmayoralorder")
def _(user):
    return Call(url("mayoral-order-detail", make_order().pk), {"title": "poprawiony tytuł"})


@recipe("mayoral-order-annex-add", "POST", LEGAL, "donations.historicalmayoralorder")
def _(user):
    return Call(url("mayoral-order-annex-add", make_order().pk), {"devices": [make_device().pk]})


@recipe("mayoral-order-annex-import", "POST", LEGAL, "donations.historicalmayoralorder")
def _(user):
    text = f"numer inwentarzowy\n{make_device().inventory_number}\n".encode()
    return Call(url("mayoral-order-annex-import", make_order().pk),
                {"file": SimpleUploadedFile("zalacznik.csv", text, content_type="text/csv")}, fmt="multipart")


@recipe("transfer-list", "POST", PM, "donations.transferevent", "donations.historicaltransfer")
def _(user):
    beneficiary, kit = household()
    order = make_order(annex_beneficiaries=[beneficiary])
    return Call(url("transfer-list"), {"order": order.pk, "recipient": beneficiary.recipient_id,
                                       "transfer_date": "2021-07-01", "kits": [kit.pk]})


def draft_transfer():
    from donations import services as donation_services

    beneficiary, kit = household()
    order = make_order(annex_beneficiaries=[beneficiary])
    return donation_services.transfer_create(order=order, recipient=beneficiary.recipient,
                                             transfer_date=date(2021, 7, 1), kits=[kit], by=None)


@recipe("transfer-detail", "PUT", PM, "donations.historicaltransfer")
def _(user):
    return Call(url("transfer-detail", draft_transfer().pk), {"notes": "odbiór w domu"})


@recipe("transfer-detail", "PATCH", PM, "donations.historicaltransfer")
def _(user):
    return Call(url("transfer-detail", draft_transfer().pk), {"notes": "odbiór w domu"})


@recipe("transfer-submit", "POST", PM, "donations.transferevent", "donations.historicaltransfer")
def _(user):
    return Call(url("transfer-submit", draft_transfer().pk), {})


@recipe("transfer-cancel", "POST", PM, "donations.transferevent", "donations.historicaltransfer")
def _(user):
    return Call(url("transfer-cancel", draft_transfer().pk), {"reason": "zły termin"})


@recipe("transfer-approve", "POST", LEGAL, "donations.transferevent", "donations.historicaltransfer")
def _(user):
    return Call(url("transfer-approve", submitted_transfer().pk), {"reason": "zgodnie z zarządzeniem"})


@recipe("transfer-reject", "POST", LEGAL, "donations.transferevent", "donations.historicaltransfer")
def _(user):
    return Call(url("transfer-reject", submitted_transfer().pk), {"reason": "brak podpisu"})


@recipe("transfer-complete", "POST", IT, "donations.transferevent", "donations.historicaltransfer",
        "assets.deviceevent")
def _(user):
    from donations import services as donation_services

    transfer = submitted_transfer()
    donation_services.transfer_approve(transfer=transfer, by=UserFactory(roles=[LEGAL]))
    return Call(url("transfer-complete", transfer.pk), {})


@recipe("transfer-for-project", "POST", PM, "donations.transferevent", "donations.historicaltransfer")
def _(user):
    beneficiary, _kit = household()
    order = make_order(annex_beneficiaries=[beneficiary])
    return Call(url("transfer-for-project"), {"order": order.pk, "project": beneficiary.project_id,
                                              "transfer_date": "2021-07-01", "submit": True})


@recipe("transfer-complete-for-project", "POST", IT, "core.jobevent", status=(202,))
def _(user):
    beneficiary, _kit = household()
    return Call(url("transfer-complete-for-project"), {"project": beneficiary.project_id})


@recipe("donation-offer-list", "POST", IT, "donations.historicaldonationoffer")
def _(user):
    return Call(url("donation-offer-list"), offer_form())


@recipe("donation-offer-detail", "PUT", IT, "donations.historicaldonationoffer")
def _(user):
    offer = make_offer()
    return Call(url("donation-offer-detail", offer.pk), {**offer_form(serial_number=offer.serial_number),
                                                         "description": "bez zasilacza"})


@recipe("donation-offer-detail", "PATCH", IT, "donations.historicaldonationoffer")
def _(user):
    return Call(url("donation-offer-detail", make_offer().pk), {"description": "bez zasilacza"})


@recipe("donation-offer-accept", "POST", IT, "donations.historicaldonationoffer", "assets.deviceevent")
def _(user):
    return Call(url("donation-offer-accept", make_offer().pk), {"inventory_number": f"DAR/{next(_numbers)}",
                                                                "reason": "dokumenty sprawdzone"})


@recipe("donation-offer-refuse", "POST", IT, "donations.historicaldonationoffer")
def _(user):
    return Call(url("donation-offer-refuse", make_offer().pk), {"reason": "brak dowodu pochodzenia"})


@recipe("liquidation-list", "POST", IT, "donations.historicalliquidation", "assets.deviceevent")
def _(user):
    wiped = sanitize(make_retired(kinds=("hdd",)), technician=other_it(), validator=other_it())
    order = make_order(kind="liquidation", title="w sprawie likwidacji", annex_devices=[wiped])
    return Call(url("liquidation-list"), {"order": order.pk, "handed_over_on": "2021-07-15",
                                          "collector_name": "Eko-Recykling", "collector_bdo": "000012345",
                                          "kpo_number": "KPO/2021/07/0042", "mass_kg": "2.500",
                                          "devices": [wiped.pk]})


# core and reports -----------------------------------------------------------------------------------

DEVICES_CSV = ("inventory_number;kind;manufacturer;model;serial_number;purchase_date;purchase_price\n"
               "UM/IMP/001;laptop;Dell;Latitude 5400;DL-001;2021-03-01;3500,00\n").encode()


@recipe("import-batch-list", "POST", IT, "core.importbatch")
def _(user):
    return Call(url("import-batch-list"), {"table": "devices", "file": SimpleUploadedFile("sprzet.csv", DEVICES_CSV)},
                fmt="multipart")


def previewed_import():
    from core.imports import import_preview

    return import_preview(table="devices", file=SimpleUploadedFile("sprzet.csv", DEVICES_CSV),
                          file_name="sprzet.csv", by=other_it(), size=len(DEVICES_CSV))


@recipe("import-batch-confirm", "POST", IT, "assets.deviceevent", "assets.historicaldevice")
def _(user):
    return Call(url("import-batch-confirm", previewed_import().pk), {"sha256": hashlib.sha256(DEVICES_CSV).hexdigest()})


@recipe("import-batch-cancel", "POST", IT)
def _(user):
    return Call(url("import-batch-cancel", previewed_import().pk), {})


@recipe("issued-report-list", "POST", IT, "reports.issuedreport", "core.storeddocument")
def _(user):
    make_device()
    return Call(url("issued-report-list"), {"kind": "inventory_register"})


def failed_job(by):
    from core.choices import JobStatus
    from core.jobs import job_start
    from core.models import Job

    job = job_start(kind="reports.report_issue", params={"kind": "inventory_register"}, by=by)
    Job.objects.filter(pk=job.pk).update(status=JobStatus.FAILED, error="worker error")
    return job


@recipe("job-resume", "POST", IT, "core.jobevent")
def _(user):
    return Call(url("job-resume", failed_job(other_it()).pk), {})


@recipe("api-token", "POST", IT, status=(200,))
def _(user):
    return Call(url("api-token"), {"username": user.username, "password": "test-password-123"})


@recipe("api-token", "DELETE", IT, status=(204,))
def _(user):
    return Call(url("api-token"))


def former_councillor():
    """A councillor whose tablet came back complete in 2023: past the retention period, nothing open."""
    from loans import services as loan_services

    recipient = make_councillor()
    term = make_term(starts_on=date(2018, 11, 22), ends_on=date(2023, 11, 21))
    loan = lend_tablet(recipient, term=term, accessories=[], starts_on=date(2019, 1, 10))
    loan_services.loan_return(loan=loan, by=None, condition="sprawny", returned_on=date(2023, 11, 30))
    return recipient


def former_beneficiary():
    """A beneficiary of a project whose durability period ended in 2015, never lent to: past retention."""
    project = make_project(starts_on=date(2008, 1, 2), ends_on=date(2009, 12, 31), final_payment_on=date(2010, 3, 31))
    return make_beneficiary(project)


@recipe("recipient-anonymise", "POST", LEGAL, "core.anonymisation", "loans.historicalrecipient")
def _(user):
    return Call(url("recipient-anonymise", former_councillor().pk), {})


@recipe("beneficiary-anonymise", "POST", PM, "core.anonymisation", "donations.historicalbeneficiary")
def _(user):
    return Call(url("beneficiary-anonymise", former_beneficiary().pk), {})


# Checks beyond the trail rows, for operations whose actor is recorded on the record itself.
def _cancelled_by_caller(user, response):
    from core.models import ImportBatch

    batch = ImportBatch.objects.get(pk=response.data["id"])
    assert batch.decided_by_id == user.pk and batch.status == "cancelled"


def _token_revoked_in_the_security_log(user, response, caplog):
    assert any(record.name == "core.security" and str(user.pk) in record.getMessage() and "revoked" in
               record.getMessage() for record in caplog.records), "revoking a token leaves no log line naming who"


EXTRA_CHECKS = {
    ("import-batch-cancel", "POST"): _cancelled_by_caller,
    ("api-token", "DELETE"): _token_revoked_in_the_security_log,
}


# --- the API ----------------------------------------------------------------------------------------

def state_changing_operations() -> list[tuple[str, str]]:
    return sorted({(name, method) for name, method, _action in surface.api_operations() if method in WRITES})


def test_every_state_changing_operation_has_a_recipe():
    known = set(API_RECIPES) | set(API_EXCEPTIONS)
    missing = [op for op in state_changing_operations() if op not in known]
    assert not missing, f"state-changing operations without an audit recipe here: {missing}"
    stale = sorted(op for op in known if op not in set(state_changing_operations()))
    assert not stale, f"recipes for operations the API no longer has: {stale}"
    assert set(EXCEPTION_RECIPES) == set(API_EXCEPTIONS)


def _client_for(api, recipe_: Recipe):
    if recipe_.role == Role.COUNCILLOR:
        user = UserFactory(is_staff=False, roles=[Role.COUNCILLOR], first_name="Ewa", last_name="Radna")
    else:
        user = UserFactory(roles=[recipe_.role])
    client = api(user)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return user, client


def _send(client, method: str, call: Call):
    return getattr(client, method.lower())(call.url, call.data, format=call.fmt)


@pytest.mark.parametrize(("route", "method"), sorted(API_RECIPES), ids=lambda v: str(v))
def test_a_state_changing_operation_records_its_actor(api, route, method, caplog):
    recipe_ = API_RECIPES[(route, method)]
    user, client = _client_for(api, recipe_)
    call = recipe_.build(user)
    trail = Trail()
    with caplog.at_level(logging.INFO, logger="core.security"):
        response = _send(client, method, call)
    assert response.status_code in recipe_.status, (route, method, response.status_code,
                                                    getattr(response, "data", response.content[:500]))
    assert_trail(trail, user, recipe_.expect, f"{method} {route}")
    check = EXTRA_CHECKS.get((route, method))
    if check is not None:
        check(user, response, caplog) if "caplog" in check.__code__.co_varnames else check(user, response)


@pytest.mark.parametrize(("route", "method"), sorted(API_EXCEPTIONS), ids=lambda v: str(v))
def test_an_operation_that_changes_nothing_writes_no_trail(api, route, method):
    recipe_ = EXCEPTION_RECIPES[(route, method)]
    user, client = _client_for(api, recipe_)
    call = recipe_.build(user)
    trail = Trail()
    response = _send(client, method, call)
    assert response.status_code in recipe_.status, (route, method, response.status_code,
                                                    getattr(response, "data", None))
    assert_no_trail(trail, f"{method} {route}")


# --- the admin's actions ----------------------------------------------------------------------------

@dataclass
class AdminRecipe:
    role: str
    build: Callable[..., tuple[list, dict]]  # (the selected objects, the action form's fields)
    expect: tuple[str, ...]


ADMIN_RECIPES: dict[tuple[str, str], AdminRecipe] = {}

# Actions that change nothing themselves, with the reason; each still runs and must write no trail.
ADMIN_EXCEPTIONS: dict[tuple[str, str], str] = {
    ("wipe.devicetosanitize", "open_session"): "only opens the add form of a wipe session with the devices "
                                               "filled in; saving that form is what writes (covered below)",
    ("loans.recipient", "export_personal_data"): "a read: the JSON file of a person's data, no record changes",
    ("donations.beneficiary", "export_personal_data"): "a read: the JSON file of a person's data, no record "
                                                       "changes",
}
ADMIN_EXCEPTION_RECIPES: dict[tuple[str, str], AdminRecipe] = {}

def admin_recipe(label: str, action: str, role: str, *expect: str):
    def register(build):
        target = ADMIN_EXCEPTION_RECIPES if (label, action) in ADMIN_EXCEPTIONS else ADMIN_RECIPES
        target[(label, action)] = AdminRecipe(role=role, build=build, expect=expect)
        return build
    return register


def _device_move(action: str, fields: dict, prepare=None):
    @admin_recipe("assets.device", action, IT, "assets.deviceevent", "assets.historicaldevice")
    def _(user):
        device = make_device(purchase_date=date(2010, 5, 1))
        if prepare is not None:
            prepare(device)
        return [device], fields


def _to_repair(device):
    from assets import services

    services.device_send_to_repair(device=device, by=None, reason="bateria")


_device_move("move_put_in_use", {"location": "pokój 7"})
_device_move("move_send_to_repair", {"reason": "nie ładuje się"})
_device_move("move_return_to_stock", {"reason": ""}, prepare=_to_repair)
_device_move("move_retire", {"retirement_reason": "end_of_life"})
_device_move("move_report_lost", {"reference": "KMP-123/2024"})


@admin_recipe("assets.device", "issue_record_card", IT, "core.storeddocument")
def _(user):
    return [make_device()], {}


@admin_recipe("authtoken.tokenproxy", "revoke", IT, "admin.logentry")
def _(user):
    from rest_framework.authtoken.models import Token

    # The changelist's checkboxes carry the token owner's user id (a token's key is never put on the page).
    return [Token.objects.create(user=UserFactory()).user], {}


@admin_recipe("donations.beneficiary", "allocate", PM, "loans.loanevent", "assets.deviceevent")
def _(user):
    project = make_project()
    return [make_beneficiary(project)], {"kit": make_set(project).pk, "starts_on": "2014-04-01"}


@admin_recipe("donations.donationoffer", "accept", IT, "donations.historicaldonationoffer", "assets.deviceevent")
def _(user):
    return [make_offer()], {"inventory_number": f"DAR/{next(_numbers)}", "reason": "dokumenty sprawdzone"}


@admin_recipe("donations.donationoffer", "refuse", IT, "donations.historicaldonationoffer")
def _(user):
    return [make_offer()], {"reason": "brak dowodu pochodzenia"}


@admin_recipe("donations.grantproject", "add_devices", PM, "donations.projectdevice")
def _(user):
    return [make_project()], {"devices": [make_device().pk]}


@admin_recipe("donations.grantproject", "issue_durability_report", PM, "core.storeddocument")
def _(user):
    beneficiary, _kit = household()
    return [beneficiary.project], {}


@admin_recipe("donations.projectobligation", "record_month", PM, "donations.obligationrecord")
def _(user):
    project = make_project()
    make_beneficiary(project)
    return [make_obligation(project)], {"month": "2016-05-01", "proof_reference": "FV 5/2016"}


@admin_recipe("donations.transfer", "transfer_submit", PM, "donations.transferevent", "donations.historicaltransfer")
def _(user):
    return [draft_transfer()], {}


@admin_recipe("donations.transfer", "transfer_cancel", PM, "donations.transferevent", "donations.historicaltransfer")
def _(user):
    return [draft_transfer()], {"reason": "zły termin"}


@admin_recipe("donations.transfer", "transfer_approve", LEGAL, "donations.transferevent",
              "donations.historicaltransfer")
def _(user):
    return [submitted_transfer()], {"reason": "zgodnie z zarządzeniem"}


@admin_recipe("donations.transfer", "transfer_reject", LEGAL, "donations.transferevent",
              "donations.historicaltransfer")
def _(user):
    return [submitted_transfer()], {"reason": "brak podpisu"}


@admin_recipe("donations.transfer", "transfer_complete_background", IT, "core.jobevent")
def _(user):
    from donations import services as donation_services

    transfer = submitted_transfer()
    donation_services.transfer_approve(transfer=transfer, by=UserFactory(roles=[LEGAL]))
    return [transfer], {}


@admin_recipe("core.job", "resume_jobs", IT, "core.jobevent")
def _(user):
    return [failed_job(other_it())], {}


@admin_recipe("donations.transfer", "transfer_complete", IT, "donations.transferevent",
              "donations.historicaltransfer", "assets.deviceevent")
def _(user):
    from donations import services as donation_services

    transfer = submitted_transfer()
    donation_services.transfer_approve(transfer=transfer, by=UserFactory(roles=[LEGAL]))
    return [transfer], {}


@admin_recipe("loans.councilterm", "change_end", IT, "loans.historicalcouncilterm")
def _(user):
    return [make_term()], {"ends_on": "2029-06-30"}


@admin_recipe("loans.loan", "loan_agreement_issue_missing", IT, "loans.loanevent", "core.storeddocument")
def _(user):
    return [imported_loan()], {}


@admin_recipe("loans.loan", "loan_extend", IT, "loans.loanevent", "loans.historicalloan")
def _(user):
    return [lend_tablet(make_councillor())], {"planned_end_on": "2031-01-01"}


@admin_recipe("loans.loan", "loan_mark_lost", IT, "loans.loanevent", "loans.historicalloan", "assets.deviceevent")
def _(user):
    return [lend_tablet(make_councillor())], {"reference": "KMP-1/2024"}


@admin_recipe("loans.loan", "loan_record_setup_step", IT, "loans.loansetupstep", "loans.loanevent")
def _(user):
    return [lend_tablet(make_councillor())], {"step": "personalised", "done_on": "2020-04-20"}


@admin_recipe("loans.loan", "loan_return", IT, "loans.loanevent", "loans.historicalloan", "assets.deviceevent")
def _(user):
    loan = lend_tablet(make_councillor(), accessories=[])
    return [loan], {f"loan-{loan.pk}-condition": "sprawny", f"loan-{loan.pk}-returned_on": "2023-11-30"}


@admin_recipe("loans.loanfinding", "settle", IT, "loans.historicalloanfinding")
def _(user):
    from loans import services as loan_services

    loan = lend_tablet(make_councillor())
    loan_services.loan_return(loan=loan, by=None, condition="ok", findings=["brak etui"])
    return [loan.findings.first()], {"settlement": "etui oddane"}


@admin_recipe("wipe.devicetosanitize", "confirm_no_media", IT, "wipe.historicalnomediaconfirmation")
def _(user):
    return [make_retired(kinds=(), kind="monitor")], {"how_checked": "obudowa otwarta, brak dysku"}


@admin_recipe("wipe.devicetosanitize", "sanitize", IT, "assets.deviceevent", "core.storeddocument")
def _(user):
    from wipe import services as wipe_services

    laptop = make_retired(kinds=("hdd",))
    record = wipe_services.sanitization_record(by=other_it(), medium=laptop.media.get(), **wipe_facts())
    wipe_services.sanitization_validate(sanitization=record, by=other_it())
    return [laptop], {}


@admin_recipe("wipe.devicetosanitize", "open_session", IT)
def _(user):
    return [make_retired(kinds=("hdd",))], {}


@admin_recipe("loans.recipient", "anonymise", LEGAL, "core.anonymisation", "loans.historicalrecipient")
def _(user):
    return [former_councillor()], {}


@admin_recipe("donations.beneficiary", "anonymise", PM, "core.anonymisation", "donations.historicalbeneficiary")
def _(user):
    return [former_beneficiary()], {}


@admin_recipe("loans.recipient", "export_personal_data", LEGAL)
def _(user):
    return [former_councillor()], {}


@admin_recipe("donations.beneficiary", "export_personal_data", PM)
def _(user):
    return [former_beneficiary()], {}


def access_attempt(**overrides):
    from axes.models import AccessAttempt

    data = {"username": "j.kowalski", "ip_address": "10.0.0.7", "user_agent": "Firefox", "get_data": "",
            "post_data": "", "http_accept": "text/html", "path_info": "/admin/login/", "failures_since_start": 5}
    data.update(overrides)
    return AccessAttempt.objects.create(**data)


@admin_recipe("axes.accessattempt", "cleanup_expired_attempts", IT, "admin.logentry")
def _(user):
    from datetime import timedelta

    from axes.models import AccessAttemptExpiration
    from django.utils import timezone

    from axes.models import AccessAttempt

    # Expired either way django-axes may be set to count it: by its expiry, or by its time and the cool-off.
    attempt = access_attempt()
    AccessAttempt.objects.filter(pk=attempt.pk).update(attempt_time=timezone.now() - timedelta(days=2))
    AccessAttemptExpiration.objects.create(access_attempt=attempt, expires_at=timezone.now() - timedelta(hours=1))
    return [attempt], {}


@admin_recipe("wipe.sanitization", "validate", IT, "wipe.wipeevent", "wipe.historicalsanitization")
def _(user):
    return [recorded_wipe()], {}


@admin_recipe("wipe.sanitization", "reject", IT, "wipe.wipeevent", "wipe.historicalsanitization")
def _(user):
    return [recorded_wipe()], {"reason": "brak raportu narzędzia"}


def admin_actions_to_cover() -> list[tuple[str, str]]:
    return [entry for entry in surface.admin_actions() if entry[1] != "delete_selected"]


def test_every_admin_action_has_a_recipe():
    known = set(ADMIN_RECIPES) | set(ADMIN_EXCEPTIONS)
    missing = [entry for entry in admin_actions_to_cover() if entry not in known]
    assert not missing, f"admin actions without an audit recipe here: {missing}"
    stale = sorted(entry for entry in known if entry not in set(admin_actions_to_cover()))
    assert not stale, f"recipes for admin actions the admin no longer has: {stale}"
    assert set(ADMIN_EXCEPTION_RECIPES) == set(ADMIN_EXCEPTIONS)


def _run_action(label: str, action: str, recipe_: AdminRecipe):
    user = UserFactory(roles=[recipe_.role])
    browser = Client(HTTP_ACCEPT_LANGUAGE="en")
    browser.force_login(user)  # first: signing in makes django-axes clean up the expired attempts
    objects, fields = recipe_.build(user)
    app_label, model_name = label.split(".")
    changelist = reverse(f"admin:{app_label}_{model_name}_changelist")
    trail = Trail()
    response = browser.post(changelist, {"action": action, ACTION_CHECKBOX_NAME: [obj.pk for obj in objects],
                                         "apply": "1", "post": "yes", **fields}, follow=True)
    assert response.status_code == 200, (label, action, response.status_code)
    errors = [str(m) for m in response.context["messages"] if m.level_tag == "error"] if response.context else []
    assert not errors, (label, action, errors)
    form = response.context.get("form") if response.context else None
    assert form is None or not form.errors, (label, action, form.errors)
    return user, trail


@pytest.mark.parametrize(("label", "action"), sorted(ADMIN_RECIPES), ids=lambda v: str(v))
def test_an_admin_action_records_its_actor(label, action):
    user, trail = _run_action(label, action, ADMIN_RECIPES[(label, action)])
    assert_trail(trail, user, ADMIN_RECIPES[(label, action)].expect, f"admin action {action} on {label}")


@pytest.mark.parametrize(("label", "action"), sorted(ADMIN_EXCEPTIONS), ids=lambda v: str(v))
def test_an_admin_action_that_changes_nothing_writes_no_trail(label, action):
    _user, trail = _run_action(label, action, ADMIN_EXCEPTION_RECIPES[(label, action)])
    assert_no_trail(trail, f"admin action {action} on {label}")


# Deleting through the admin's `delete_selected`: the recipe selects a record a role may delete.
DELETE_RECIPES: dict[str, Callable] = {
    # Unlocking a locked user name (django-axes) is deleting its attempt record.
    "axes.accessattempt": lambda: access_attempt(),
}
# Delete permissions whose admin takes `delete_selected` away and offers an audited action in its place.
DELETE_REPLACED = {"authtoken.delete_tokenproxy": "revoke"}


def role_delete_permissions() -> dict[str, str]:
    """'app.delete_model' -> a role holding it."""
    held = {}
    for group in Group.objects.filter(name__in=[IT, PM, LEGAL, Role.COUNCILLOR, Role.AUDITOR]):
        for perm in group.permissions.filter(codename__startswith="delete_").select_related("content_type"):
            held.setdefault(f"{perm.content_type.app_label}.{perm.codename}", group.name)
    return held


def test_every_deletion_a_role_may_make_has_a_recipe():
    """`delete_selected` is offered wherever a user holds the model's delete permission. A role holds one only
    where a recipe below shows the deletion leaves the admin's log entry naming who deleted what."""
    for perm, role in role_delete_permissions().items():
        app_label, codename = perm.split(".")
        label = f"{app_label}.{codename.removeprefix('delete_')}"
        assert label in DELETE_RECIPES or perm in DELETE_REPLACED, f"{role} may delete {label}: no recipe here"


@pytest.mark.parametrize("label", sorted(DELETE_RECIPES))
def test_a_deletion_through_the_admin_records_its_actor(label):
    perm = f"{label.split('.')[0]}.delete_{label.split('.')[1]}"
    role = role_delete_permissions().get(perm)
    assert role is not None, f"no role may delete {label} any more: drop its recipe"
    obj = DELETE_RECIPES[label]()
    user, trail = _run_action(label, "delete_selected", AdminRecipe(role=role, build=lambda _u: ([obj], {}),
                                                                      expect=()))
    assert not type(obj)._default_manager.filter(pk=obj.pk).exists()
    assert_trail(trail, user, ("admin.logentry",), f"delete_selected on {label}")


def test_a_replaced_delete_is_not_offered():
    user = UserFactory(roles=[IT])
    browser = Client()
    browser.force_login(user)
    page = browser.get(reverse("admin:authtoken_tokenproxy_changelist"))
    assert page.status_code == 200
    assert "delete_selected" not in [name for name, _label in page.context["action_form"].fields["action"].choices]


# --- reading writes nothing -------------------------------------------------------------------------

# The requests that build a register with a record behind every detail page (each through the API).
WORLD = [("contract-list", "POST"), ("kit-list", "POST"), ("storage-medium-list", "POST"),
         ("device-record-card", "POST"), ("loan-finding-settle", "POST"), ("fault-reply", "POST"),
         ("sanitization-list", "POST"), ("disk-removal-list", "POST"), ("wipe-session-list", "POST"),
         ("wipe-report-list", "POST"), ("obligation-record", "POST"), ("transfer-submit", "POST"),
         ("donation-offer-list", "POST"), ("liquidation-list", "POST"), ("import-batch-list", "POST"),
         ("issued-report-list", "POST"), ("transfer-complete-for-project", "POST")]


def _addresses(route: surface.Route) -> list[str]:
    """Where to read the route: the list itself, or a detail page for each of a few records of its model
    (a viewset may narrow its queryset, as the devices to sanitize do: the first that answers is read)."""
    if "(?P<" not in route.pattern:
        return [reverse(route.name)]
    if "(?P<name>" in route.pattern:
        return [reverse(route.name, kwargs={"name": "inventory"})]
    view = route.view_class
    lookup = getattr(view, "lookup_field", "pk")
    key = "code" if "(?P<code>" in route.pattern else "pk"
    objects = view.queryset.model._default_manager.order_by("-pk")[:30]
    return [reverse(route.name, kwargs={key: getattr(obj, lookup)}) for obj in objects]


def test_no_read_writes_anything(api):
    for route, method in WORLD:
        recipe_ = API_RECIPES[(route, method)]
        _user, client = _client_for(api, recipe_)
        response = _send(client, method, recipe_.build(_user))
        assert response.status_code in recipe_.status, (route, response.status_code, getattr(response, "data", None))
    reader = UserFactory(is_superuser=True)
    client = api(reader)
    routes = {route.name: route for route in surface.api_routes()}
    reads = sorted({name for name, method, _action in surface.api_operations() if method == "GET"})
    assert reads
    for name in reads:
        route = routes[name]
        answered = []
        for address in _addresses(route):
            trail = Trail()
            response = client.get(address)
            assert_no_trail(trail, f"GET {name} ({address})")
            if response.status_code == 200:
                answered.append(address)
                break
        assert answered, f"GET {name}: no record answered; the world above needs one"


# --- the admin's add and change forms ---------------------------------------------------------------

def _page_data(page, fields: dict) -> dict:
    """The form of an admin add/change page as the browser would send it: its initial values, the inline
    formsets' management forms, and the fields the person types in."""
    form = page.context["adminform"].form
    data = {}
    for name in form.fields:
        value = form[name].value()
        if value in (None, False, ""):
            continue
        data[name] = value.isoformat() if hasattr(value, "isoformat") else value
    for inline in page.context["inline_admin_formsets"]:
        formset = inline.formset
        for key, value in formset.management_form.initial.items():
            data[f"{formset.prefix}-{key}"] = value
    data.update(fields)
    return data


@dataclass
class FormRecipe:
    role: str
    build: Callable[..., tuple[str, dict]]  # (the page's address, the fields typed in)
    expect: tuple[str, ...]


FORM_RECIPES: dict[str, FormRecipe] = {}


def form_recipe(name: str, role: str, *expect: str):
    def register(build):
        FORM_RECIPES[name] = FormRecipe(role=role, build=build, expect=expect)
        return build
    return register


@form_recipe("add device", IT, "assets.deviceevent", "assets.historicaldevice")
def _(user):
    return reverse("admin:assets_device_add"), device_payload(location="pok. 7")


@form_recipe("change device", IT, "assets.historicaldevice")
def _(user):
    return reverse("admin:assets_device_change", args=[make_device().pk]), {"location": "pokój 8"}


@form_recipe("add supplier", IT, "assets.historicalsupplier")
def _(user):
    return reverse("admin:assets_supplier_add"), {"name": "Infover S.A.", "nip": valid_nip(next(_numbers)),
                                                   "address": "ul. Zagnańska 61, Kielce"}


@form_recipe("change supplier", IT, "assets.historicalsupplier")
def _(user):
    return reverse("admin:assets_supplier_change", args=[make_supplier().pk]), {"phone": "41 000 00 00"}


@form_recipe("add contract", IT, "assets.historicalcontract")
def _(user):
    return reverse("admin:assets_contract_add"), contract_form(make_supplier())


@form_recipe("add recipient", IT, "loans.historicalrecipient")
def _(user):
    return reverse("admin:loans_recipient_add"), {"kind": "staff", "name": "Adam Pracownik"}


@form_recipe("open a wipe session (from the action)", IT, "wipe.historicalwipesession", "wipe.wipeevent")
def _(user):
    laptop = make_retired(kinds=("hdd",))
    return f"{reverse('admin:wipe_wipesession_add')}?devices_to_wipe={laptop.pk}", {"location": "pok. 12"}


@form_recipe("add grant project", PM, "donations.historicalgrantproject")
def _(user):
    return reverse("admin:donations_grantproject_add"), project_form(user)


@form_recipe("add mayoral order", LEGAL, "donations.historicalmayoralorder")
def _(user):
    return reverse("admin:donations_mayoralorder_add"), order_form()


@pytest.mark.parametrize("name", sorted(FORM_RECIPES))
def test_an_admin_form_that_saves_records_its_actor(name):
    recipe_ = FORM_RECIPES[name]
    user = UserFactory(roles=[recipe_.role])
    address, fields = recipe_.build(user)
    browser = Client(HTTP_ACCEPT_LANGUAGE="en")
    browser.force_login(user)
    page = browser.get(address)
    assert page.status_code == 200, (name, page.status_code)
    trail = Trail()
    response = browser.post(address, _page_data(page, fields))
    errors = response.context["adminform"].form.errors if response.context and "adminform" in response.context else {}
    assert response.status_code == 302, (name, response.status_code, errors)
    assert_trail(trail, user, recipe_.expect, f"admin form: {name}")
