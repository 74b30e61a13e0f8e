"""Test data. Register records are built through the services, as every other caller builds them."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from assets import services
from assets.choices import DeviceKind, FundingSource, MediumKind


def valid_nip(seed: int) -> str:
    """A NIP with a correct check digit, different for each seed."""
    weights = (6, 5, 7, 2, 3, 4, 5, 6, 7)
    n = seed
    while True:
        digits = f"{(123456789 + n * 7919) % 10**9:09d}"
        check = sum(int(d) * w for d, w in zip(digits, weights, strict=True)) % 11
        if check != 10 and digits[0] != "0":
            return digits + str(check)
        n += 1000003


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = "Anna"
    last_name = factory.Sequence(lambda n: f"Kowalska{n}")
    is_staff = True
    password = factory.django.Password("test-password-123")

    @factory.post_generation
    def roles(self, create, extracted, **kwargs):
        for name in extracted or ():
            self.groups.add(Group.objects.get(name=name))


_seq = iter(range(1, 10**9))


def make_supplier(**overrides):
    n = next(_seq)
    data = {"name": f"Dostawca {n} Sp. z o.o.", "nip": valid_nip(n), "address": "ul. Zagnańska 61, 25-528 Kielce"}
    data.update(overrides)
    return services.supplier_create(by=None, **data)


def make_contract(**overrides):
    n = next(_seq)
    data = {
        "number": f"BRM/{n}/2020",
        "signed_on": date(2020, 4, 10),
        "supplier": overrides.pop("supplier", None) or make_supplier(),
        "value": Decimal("123456.78"),
        "funding_source": FundingSource.MAYORS_RESERVE,
        "procurement_basis": "art. 6 ustawy z 2 marca 2020 (COVID-19)",
    }
    data.update(overrides)
    return services.contract_create(by=None, **data)


def make_device(*, by=None, **overrides):
    n = next(_seq)
    data = {
        "inventory_number": f"UM/2020/{n:05d}",
        "kind": DeviceKind.LAPTOP,
        "manufacturer": "Lenovo",
        "model": "ThinkPad T14",
        "serial_number": f"SN{n:08d}",
        "purchase_date": date(2020, 4, 15),
        "purchase_price": Decimal("3999.00"),
        "location": "pokój 101",
    }
    data.update(overrides)
    return services.device_register(by=by, **data)


def make_medium(*, device, **overrides):
    n = next(_seq)
    data = {"device": device, "kind": MediumKind.SSD, "serial_number": f"DISK{n:08d}", "capacity_gb": 256}
    data.update(overrides)
    return services.storage_medium_add(by=None, **data)


def make_term(**overrides):
    from loans import services as loan_services

    data = {"council": "Rada Miasta Kielce", "name": f"kadencja 2024–2029 ({next(_seq)})",
            "starts_on": date(2024, 5, 7), "ends_on": date(2029, 5, 6)}
    data.update(overrides)
    return loan_services.council_term_create(by=None, **data)


def make_councillor(name: str = "Ewa Radna", **user_fields):
    """A councillor: a user in the councillor role (not staff) and the loan recipient tied to it."""
    from core.roles import Role
    from loans import services as loan_services
    from loans.choices import RecipientKind

    first, _space, last = name.partition(" ")
    user = UserFactory(is_staff=False, first_name=first, last_name=last, roles=[Role.COUNCILLOR],
                       email=f"radny{next(_seq)}@kielce.test", **user_fields)
    return loan_services.recipient_create(by=None, kind=RecipientKind.COUNCILLOR, name=name, user=user)


def lend_tablet(recipient, *, term=None, by=None, **overrides):
    """A loan of a new tablet (with charger and case) to `recipient` for council sessions."""
    from loans import services as loan_services
    from loans.choices import LoanPurpose

    data = {"recipient": recipient, "purpose": LoanPurpose.COUNCIL_SESSIONS, "council_term": term or make_term(),
            "starts_on": date(2020, 4, 16), "condition_at_handover": "nowy, w folii",
            "accessories": [{"kind": "charger", "quantity": 1}, {"kind": "case", "quantity": 1}]}
    data.update(overrides)
    if "devices" not in data and "kit" not in data:
        data["devices"] = [make_device(kind=DeviceKind.TABLET, manufacturer="Samsung", model="Galaxy Tab S6 Lite")]
    return loan_services.loan_start(by=by, **data)


def png_bytes(size=(8, 8)) -> bytes:
    """A small, real PNG image (a photo of a fault, for tests)."""
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


def make_retired(*, kinds=("hdd", "ssd"), by=None, **overrides):
    """A laptop past its life, retired, with a medium of each kind in `kinds`."""
    overrides.setdefault("purchase_date", date(2010, 5, 18))
    device = make_device(by=by, **overrides)
    for kind in kinds:
        make_medium(device=device, kind=kind, capacity_gb=250)
    services.device_retire(device=device, by=by, retirement_reason="end_of_life")
    device.refresh_from_db()
    return device


def wipe_facts(**overrides):
    """What a technician states about a wipe that fits a medium leaving the office (an HDD by default)."""
    from datetime import timedelta

    from django.utils import timezone

    end = timezone.now() - timedelta(hours=1)
    data = {"method_class": "purge", "technique": "overwrite", "overwrite_passes": 1, "pattern": "zera",
            "tool": "nwipe", "tool_version": "0.34", "started_at": end - timedelta(hours=2), "finished_at": end,
            "verification": "full", "verification_result": "passed", "destination": "leaves_office",
            "location": "Biuro Informatyki, pok. 12"}
    data.update(overrides)
    return data


def sanitize(device, *, technician, validator):
    """Wipe every medium of a retired device (HDD overwrite, SSD crypto erase), validate, pass the gate."""
    from wipe import services as wipe_services

    for medium in device.media.inside():
        facts = wipe_facts() if medium.kind == "hdd" else wipe_facts(technique="crypto_erase", overwrite_passes=None,
                                                                      pattern="")
        record = wipe_services.sanitization_record(by=technician, medium=medium, **facts)
        wipe_services.sanitization_validate(sanitization=record, by=validator)
    wipe_services.device_sanitize(device=device, by=validator)
    device.refresh_from_db()
    return device


def make_project(**overrides):
    """A grant project like e-Inclusion: final payment 31.03.2016, five years of durability."""
    from donations import services as donation_services

    n = next(_seq)
    data = {"name": f"e-Inclusion {n}", "programme": "POIG 8.3 eInclusion", "agreement_number": f"POIG.08.03.00-30-{n:03d}/12",
            "starts_on": date(2013, 1, 2), "ends_on": date(2015, 12, 31), "final_payment_on": date(2016, 3, 31),
            "durability_years": 5}
    data.update(overrides)
    return donation_services.project_create(by=None, **data)


def make_set(project, *, n: int | None = None):
    """A project's computer set: a desktop with an HDD and its monitor, in one kit, bought in 2014."""
    from donations import services as donation_services

    n = n or next(_seq)
    computer = make_device(kind=DeviceKind.DESKTOP, manufacturer="Dell", model="OptiPlex 3020",
                           inventory_number=f"EI/{n:05d}/K", purchase_date=date(2014, 3, 3))
    make_medium(device=computer, kind=MediumKind.HDD, capacity_gb=500)
    monitor = make_device(kind=DeviceKind.MONITOR, manufacturer="Dell", model="E2214H",
                          inventory_number=f"EI/{n:05d}/M", purchase_date=date(2014, 3, 3))
    kit = services.kit_create(code=f"EI-{n:05d}", name=f"Zestaw e-Inclusion {n}", devices=[computer, monitor], by=None)
    donation_services.project_add_devices(project=project, kits=[kit], by=None)
    return kit


def make_beneficiary(project, **overrides):
    from donations import services as donation_services
    from donations.choices import BeneficiaryKind

    n = next(_seq)
    data = {"code": f"EI/GD/{n:03d}", "kind": BeneficiaryKind.HOUSEHOLD, "name": f"Gospodarstwo domowe nr {n}",
            "address": "ul. Słowiańska 5, 64-100 Leszno", "phone": "+48 65 000 00 00",
            "eligibility_basis": "uczeń w rodzinie korzystającej z pomocy społecznej (decyzja MOPS)",
            "eligibility_reference": f"MOPS.8310.{n}.2013"}
    data.update(overrides)
    return donation_services.beneficiary_create(project=project, by=None, **data)


def allocate(beneficiary, kit=None, *, starts_on=date(2014, 4, 1)):
    """The beneficiary takes a set on loan for the whole durability period."""
    from donations import services as donation_services

    kit = kit or make_set(beneficiary.project)
    return donation_services.beneficiary_allocate(beneficiary=beneficiary, kit=kit, starts_on=starts_on, by=None)


def make_order(**overrides):
    """A mayor's order of free transfer, in force from 14.06.2021, with `annex_devices`/`annex_beneficiaries`."""
    from donations import services as donation_services
    from donations.choices import OrderKind

    devices = overrides.pop("annex_devices", None)
    beneficiaries = overrides.pop("annex_beneficiaries", None)
    n = next(_seq)
    data = {"number": f"{n}/2021", "signed_on": date(2021, 6, 14), "signatory": "Łukasz Borowski, Prezydent Miasta Leszna",
            "title": "w sprawie nieodpłatnego przekazania sprzętu komputerowego",
            "legal_basis": "art. 30 ust. 2 pkt 3 ustawy o samorządzie gminnym", "kind": OrderKind.FREE_TRANSFER,
            "in_force_from": date(2021, 6, 14)}
    data.update(overrides)
    order = donation_services.order_create(by=None, **data)
    if devices or beneficiaries:
        donation_services.order_annex_add(order=order, by=None, devices=devices, beneficiaries=beneficiaries)
    return order
