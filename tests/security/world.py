"""One record of every kind the service knows, and a user for every role: what the permission matrix asks about.

Built once per test module (it takes a few seconds) inside a transaction that is rolled back when the module
ends; every test runs in its own savepoint inside it, so a write one cell makes is gone before the next.
Councillor A holds a tablet on loan, has reported a fault on it (with a photo) and has the loan's documents;
councillor B holds a tablet of their own, so "someone else's record" is always at hand.
"""
from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from rest_framework.authtoken.models import Token

from config.access import ANON, AUDIT, COUNC, IT, LEGAL, PM
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
    png_bytes,
    sanitize,
    wipe_facts,
)

__all__ = ["ANON", "AUDIT", "COUNC", "COUNC_B", "IT", "LEGAL", "PM", "World", "build_world", "documents_of"]

COUNC_B = "councillor B"  # another councillor, holding records of their own

_SCAN = Path(__file__).resolve().parent.parent / "core" / "samples" / "invoice.pdf"  # a real PDF (scans are checked)
# The office's roles as the matrix names them; the matrix's councillor is councillor A, who holds the records.
ROLE_GROUPS = {IT: Role.IT_OFFICE, PM: Role.PROJECT_MANAGER, LEGAL: Role.LEGAL_OFFICE, AUDIT: Role.AUDITOR}


@dataclass
class World:
    users: dict[str, object]
    councillor_b: object
    objects: dict[str, object] = field(default_factory=dict)  # route basename -> the record its detail shows
    a: dict[str, object] = field(default_factory=dict)  # councillor A's own loan, device, fault, document
    b: dict[str, object] = field(default_factory=dict)  # councillor B's
    sessions: dict[str, str] = field(default_factory=dict)  # a signed-in session per role (and COUNC_B)


def build_world() -> World:
    from assets import services as asset_services
    from assets.models import DeviceEvent
    from core.imports import import_preview
    from donations import services as donation_services
    from donations.choices import ObligationKind, OrderKind
    from faults import services as fault_services
    from loans import services as loan_services
    from loans.choices import LoanPurpose, RecipientKind
    from reports.services import report_issue
    from wipe import services as wipe_services

    users = {role: UserFactory(roles=[group], username=f"matrix-{role}") for role, group in ROLE_GROUPS.items()}
    validator = UserFactory(roles=[Role.IT_OFFICE], username="matrix-validator")
    term = make_term()
    recipient_a = make_councillor("Anna Radna", username="matrix-councillor-a")
    recipient_b = make_councillor("Beata Radna", username="matrix-councillor-b")
    users[COUNC] = recipient_a.user
    world = World(users=users, councillor_b=recipient_b.user)

    for key, recipient in (("a", recipient_a), ("b", recipient_b)):
        loan = lend_tablet(recipient, term=term, by=users[IT])
        device = loan.items.get().device
        fault = fault_services.fault_report(
            by=recipient.user, device=device, category="hardware", description="Pęknięty ekran",
            contact="+48 600 000 000", photo=SimpleUploadedFile("ekran.png", png_bytes(), content_type="image/png"))
        getattr(world, key).update(loan=loan, device=device, fault=fault, document=documents_of(loan).first())

    objects = world.objects
    # councillor A's records stand for their kind, so that "own records" can be asked about
    objects.update(device=world.a["device"], loan=world.a["loan"], fault=world.a["fault"],
                   document=world.a["document"], recipient=recipient_a, **{"council-term": term})
    objects["storage-medium"] = make_medium(device=make_device(by=users[IT]))
    objects["supplier"] = make_supplier()
    objects["contract"] = make_contract(supplier=objects["supplier"],
                                        scan=SimpleUploadedFile("umowa.pdf", _SCAN.read_bytes()))
    objects["kit"] = asset_services.kit_create(code="MATRIX-1", name="Zestaw", devices=[make_device()], by=None)
    objects["device-event"] = DeviceEvent.objects.order_by("id").first()

    # a returned loan with a missing charger: a finding to settle
    staff = loan_services.recipient_create(by=None, kind=RecipientKind.STAFF, name="Jan Pracownik")
    returned = lend_tablet(staff, by=users[IT], purpose=LoanPurpose.STAFF_WORK, council_term=None,
                           planned_end_on=date(2030, 1, 1))
    charger = returned.accessories.get(kind="charger")
    loan_services.loan_return(loan=returned, by=users[IT], condition="ok", accessories_returned={charger.pk: 0})
    objects["loan-finding"] = returned.findings.first()

    # wipes: a retired device with a sanitization awaiting validation, a removed disk, an open session
    retired = make_retired(kinds=("hdd", "ssd"), by=users[IT])
    hdd, ssd = retired.media.get(kind="hdd"), retired.media.get(kind="ssd")
    objects["sanitization"] = wipe_services.sanitization_record(by=users[IT], medium=hdd, **wipe_facts())
    objects["disk-removal"] = wipe_services.disk_remove(medium=ssd, by=users[IT], kept_at="sejf", held_by="Jan Nowak")
    objects["device-to-sanitize"] = retired
    objects["wipe-session"] = wipe_services.session_open(by=users[IT], devices=[make_retired(kinds=("hdd",))],
                                                         location="pok. 12")
    from wipe.models import WipeEvidence

    objects["wipe-report"] = _evidence(WipeEvidence, users[IT])

    # donations: a project with a household holding a set, an obligation logged, an order, a transfer,
    # an offer from a resident, a liquidation
    project = make_project()
    beneficiary = make_beneficiary(project)
    kit = make_set(project)
    allocate(beneficiary, kit)
    objects["grant-project"] = project
    objects["beneficiary"] = beneficiary
    obligation = donation_services.obligation_create(project=project, kind=ObligationKind.INTERNET,
                                                     description="Internet", by=None)
    objects["obligation"] = obligation
    objects["obligation-record"] = donation_services.obligation_record(
        obligation=obligation, beneficiary=beneficiary, month=date(2016, 4, 1), proof_reference="FV/1", by=None)
    order = make_order(project=project, annex_beneficiaries=[beneficiary])
    objects["mayoral-order"] = order
    objects["transfer"] = donation_services.transfer_create(order=order, recipient=beneficiary.recipient, by=None,
                                                            kits=[kit], transfer_date=date(2021, 7, 1))
    objects["donation-offer"] = donation_services.donation_offer_create(
        by=None, donor_name="Jan Darczyńca", donor_contact="Leszno", kind="laptop", manufacturer="Dell",
        model="Latitude", serial_number="CNMATRIX", legal_source="invoice", legal_source_reference="FV 12/2016",
        free_of_charge_declared=True, software_licences="Windows 10 Pro OEM")
    scrapped = sanitize(make_retired(kinds=("hdd",)), technician=users[IT], validator=validator)
    scrap_order = make_order(kind=OrderKind.LIQUIDATION, annex_devices=[scrapped])
    objects["liquidation"] = donation_services.liquidation_record(
        order=scrap_order, devices=[scrapped], by=None, handed_over_on=date(2021, 7, 20),
        collector_name="Elektro-Recykling", collector_bdo="000012345", kpo_number="KPO/1", mass_kg="3.2")

    # an import previewed, and an issued report
    objects["import-batch"] = import_preview(
        table="suppliers", file=io.BytesIO("name;nip\nDostawca;5260250995\n".encode()), file_name="dostawcy.csv",
        by=users[IT])
    objects["issued-report"] = report_issue(kind="inventory_register", by=users[IT])
    from core.jobs import job_start

    objects["job"] = job_start(kind="reports.report_issue", params={"kind": "inventory_register"}, by=users[IT])
    for user in [*users.values(), world.councillor_b]:
        Token.objects.get_or_create(user=user)  # so that revoking one's token has one to revoke
    # one sign-in per person for the whole module: each cell's client carries its session cookie
    for role, user in [*users.items(), (COUNC_B, world.councillor_b)]:
        client = Client()
        client.force_login(user)
        world.sessions[role] = client.cookies[settings.SESSION_COOKIE_NAME].value
    return world


def documents_of(record):
    """The documents issued about `record`, oldest first."""
    from django.contrib.contenttypes.models import ContentType

    from core.models import StoredDocument

    return StoredDocument.objects.filter(subject_type=ContentType.objects.get_for_model(record),
                                         subject_id=record.pk).order_by("id")


def _evidence(model, by):
    """A kept wipe log (its content is not what the matrix asks about)."""
    import hashlib

    from django.core.files.base import ContentFile

    content = b"[2024/01/01 10:00:00] nwipe: info: Nwipe successfully completed.\n"
    evidence = model(original_name="nwipe.log", sha256=hashlib.sha256(content).hexdigest(), size=len(content),
                     format=model._meta.get_field("format").choices[0][0], uploaded_by=by)
    evidence.file.save("nwipe.log", ContentFile(content), save=False)
    evidence.save()
    return evidence
