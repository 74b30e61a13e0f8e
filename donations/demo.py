"""Demo data of the donations app (load_demo finds this module in each app): Leszno's e-Inclusion project.

From the Leszno answer of 26 May 2021: in 2013-2015 the city ran the project „Przeciwdziałanie wykluczeniu
cyfrowemu e-Inclusion na terenie Miasta Leszna” and handed over 120 computer sets with internet access to
households with a pupil in a hard financial situation, 330 sets to 22 schools (a 15-seat lab each) and
10 sets to therapy centres (one each). For the next five years the city serviced the equipment and paid
for the households' internet; after that period, under an order of the President, the sets pass free of
charge into the ownership of the beneficiaries who use them.

The sets themselves are registered by the assets part of the demo (kits UML/EI/DOM/nnn, UML/EI/SZK/nnn,
UML/EI/SWT/nn in fixtures/demo.json). This part adds the project (POIG 8.3, final payment 31.03.2016,
durability until 31.03.2021), its 152 beneficiaries each holding its sets on loan since 2014, the two
obligations with their monthly proof (a few months left without proof on purpose), the President's order
of free transfer with its annex of the 120 households, and two donation offers from residents.

The demo stops at the order: the transfers are the visitor's to make (the project manager prepares them
for the whole project in one step, the legal office approves them, the IT office completes them), so that
the annex is still open and every household still holds its set. Everything goes through
donations.services; the project (by its agreement number), the order (by its number) and each offer (by
the device's serial number) are the anchors of a second run, which finds them and leaves all as it is.
The facts are kept here rather than in fixtures/demo.json, beside the code that reads them; invented
details are marked PRZYKŁADOWE in the records' notes.
"""
from __future__ import annotations

from collections import Counter
from datetime import date
from typing import Any

from django.contrib.auth import get_user_model

from assets.models import Device, Kit
from donations import services
from donations.choices import BeneficiaryKind, LegalSource, ObligationKind, OrderKind
from donations.models import Beneficiary, DonationOffer, GrantProject, MayoralOrder, ObligationRecord
from loans.models import Loan

# The demo accounts (assets' load_demo) who act in their roles.
MANAGER = "kierownik"
LAWYER = "prawnik"

PROJECT = {
    "name": "Przeciwdziałanie wykluczeniu cyfrowemu e-Inclusion na terenie Miasta Leszna",
    "programme": "Program Operacyjny Innowacyjna Gospodarka 2007-2013 (POIG), działanie 8.3 „Przeciwdziałanie "
                 "wykluczeniu cyfrowemu – eInclusion”",
    "agreement_number": "POIG.08.03.00-30-052/12",
    "starts_on": date(2013, 1, 2),
    "ends_on": date(2015, 12, 31),
    "final_payment_on": date(2016, 3, 31),
    "durability_years": 5,
    "notes": "Z odpowiedzi Prezydenta Miasta Leszna z 26 maja 2021 r. (interpelacja BR.003.119.2021): realizacja "
             "w latach 2013-2015; 120 zestawów z dostępem do Internetu dla uczniów w trudnej sytuacji materialnej, "
             "330 zestawów dla 22 szkół (pracownie 15-stanowiskowe), 10 zestawów dla świetlic terapeutycznych; "
             "przez 5 lat po zakończeniu projektu serwis sprzętu i Internet dla 120 gospodarstw domowych, potem "
             "nieodpłatne przekazanie sprzętu na własność beneficjentom na podstawie zarządzenia Prezydenta. "
             "PRZYKŁADOWE (nie prawdziwe) są: numer umowy o dofinansowanie, data płatności końcowej, daty "
             "przekazania zestawów, nazwy i adresy gospodarstw domowych, sygnatury decyzji MOPS, numery faktur "
             "i raportów serwisowych. W dzienniku obowiązków celowo brakuje kilku miesięcy bez dowodu "
             "(EI/GD/017 i EI/GD/058: Internet, EI/GD/103: serwis).",
}

# Streets of Leszno, without house numbers: the demo households hold no real address.
STREETS = ["Słowiańska", "Narutowicza", "Leszczyńskich", "Kiepury", "Sienkiewicza", "Królowej Jadwigi",
           "Grunwaldzka", "Kąkolewska", "Zamenhofa", "Lipowa", "Jana Pawła II", "Dąbrowskiego", "Poniatowskiego",
           "Chrobrego", "Rejtana", "Okrężna"]

HOUSEHOLDS = {
    "kit_prefix": "UML/EI/DOM/",
    "code": "EI/GD/{n:03d}",
    "name": "Gospodarstwo domowe nr {n}",
    "eligibility_basis": "Uczeń w trudnej sytuacji materialnej: rodzina korzystająca z pomocy społecznej "
                         "(decyzja Miejskiego Ośrodka Pomocy Rodzinie w Lesznie).",
    "eligibility_reference": "MOPR.8310.{n}.2013 (przykładowa)",
    "qualified_on": date(2013, 10, 31),
    "starts_on": date(2014, 1, 15),
    "condition": "Nowy zestaw: komputer, monitor i router LTE z kartą SIM; zainstalowany i uruchomiony w domu "
                 "ucznia.",
    "accessories": [
        {"kind": "keyboard", "description": "klawiatura przewodowa USB", "quantity": 1},
        {"kind": "mouse", "description": "mysz optyczna USB", "quantity": 1},
        {"kind": "sim_card", "description": "karta SIM operatora (Internet opłacany przez Miasto)", "quantity": 1},
    ],
}
SCHOOLS = {
    "kit_prefix": "UML/EI/SZK/",
    "code": "EI/SZ/{n:02d}",
    "eligibility_basis": "Szkoła prowadzona przez Miasto Leszno: 15-stanowiskowa pracownia komputerowa.",
    "qualified_on": date(2014, 3, 31),
    "starts_on": date(2014, 5, 12),
    "condition": "Nowa pracownia 15 stanowisk (komputer i monitor na każdym), zainstalowana i uruchomiona.",
    "accessories": [
        {"kind": "keyboard", "description": "klawiatura przewodowa USB", "quantity": 15},
        {"kind": "mouse", "description": "mysz optyczna USB", "quantity": 15},
    ],
}
CENTRES = {
    "kit_prefix": "UML/EI/SWT/",
    "code": "EI/SW/{n:02d}",
    "eligibility_basis": "Świetlica terapeutyczna (placówka wsparcia dziennego): jeden zestaw na placówkę.",
    "qualified_on": date(2013, 10, 31),
    "starts_on": date(2014, 1, 22),
    "condition": "Nowy zestaw: komputer i monitor, zainstalowany i uruchomiony.",
    "accessories": [
        {"kind": "keyboard", "description": "klawiatura przewodowa USB", "quantity": 1},
        {"kind": "mouse", "description": "mysz optyczna USB", "quantity": 1},
    ],
}

OBLIGATIONS = [
    {"kind": ObligationKind.SERVICING, "applies_to": "",
     "description": "Serwis sprzętu komputerowego zakupionego w ramach projektu (wszyscy beneficjenci)",
     "proof": "Raport serwisowy nr RS/EI/{month:%Y}/{month:%m} (przykładowy)"},
    {"kind": ObligationKind.INTERNET, "applies_to": BeneficiaryKind.HOUSEHOLD,
     "description": "Dostęp do Internetu dla 120 gospodarstw domowych",
     "proof": "Faktura nr FV/{month:%Y}/{month:%m}/EI operatora Internetu (przykładowa)"},
]
OBLIGATIONS_FROM = date(2016, 4, 1)
OBLIGATIONS_UNTIL = date(2021, 3, 31)
# Months left without proof on purpose, so that the "months without proof" view shows something.
GAPS: dict[tuple[str, str], list[date]] = {
    (ObligationKind.INTERNET, "EI/GD/017"): [date(2019, 2, 1), date(2019, 3, 1)],
    (ObligationKind.INTERNET, "EI/GD/058"): [date(2020, 11, 1)],
    (ObligationKind.SERVICING, "EI/GD/103"): [date(2017, 7, 1)],
}

ORDER = {
    "number": "212/2021",
    "signed_on": date(2021, 6, 14),
    "in_force_from": date(2021, 6, 14),
    "signatory": "Łukasz Borowski, Prezydent Miasta Leszna",
    "title": "w sprawie nieodpłatnego przekazania na własność sprzętu komputerowego zakupionego w ramach projektu "
             "„Przeciwdziałanie wykluczeniu cyfrowemu e-Inclusion na terenie Miasta Leszna” użytkującym go "
             "beneficjentom – gospodarstwom domowym",
    "legal_basis": "art. 30 ust. 2 pkt 3 ustawy z dnia 8 marca 1990 r. o samorządzie gminnym (Dz. U. z 2020 r. "
                   "poz. 713 ze zm.)",
    "kind": OrderKind.FREE_TRANSFER,
    "notes": "Zarządzenie nr 212/2021 Prezydenta Miasta Leszna z dnia 14 czerwca 2021 r., wydane po upływie okresu "
             "trwałości projektu (31.03.2021 r.). Numer, data i treść zarządzenia PRZYKŁADOWE; odpowiedź "
             "Prezydenta z 26 maja 2021 r. zapowiada przekazanie sprzętu beneficjentom na podstawie zarządzenia "
             "po zakończeniu okresu trwałości. "
             "Załącznik: wykaz 120 gospodarstw domowych (EI/GD/001-120); każde otrzymuje zestaw, który użytkuje.",
}

OFFERS = [
    {"donor_name": "Jan Przykładowy (darczyńca demonstracyjny)", "donor_contact": "tel. 600 000 001 (przykładowy)",
     "offered_on": date(2021, 6, 21), "kind": "laptop", "manufacturer": "Lenovo", "model": "ThinkPad T440",
     "serial_number": "PF-DEMO-0001",
     "description": "Laptop 14\" w dobrym stanie, zasilacz w komplecie, bateria trzyma ok. 2 godzin.",
     "legal_source": LegalSource.INVOICE, "legal_source_reference": "Faktura nr FV/2015/11/0234 (przykładowa)",
     "software_licences": "Windows 10 Pro (licencja cyfrowa po aktualizacji z Windows 8.1 Pro OEM, klucz w UEFI); "
                          "LibreOffice (licencja MPL, bezpłatna).",
     "free_of_charge_declared": True,
     "accept": {
         "inventory_number": "UML/DAR/2021/001",
         "location": "Urząd Miasta Leszna, Biuro Informatyki, pok. 12",
         "media": [{"kind": "hdd", "manufacturer": "HGST", "model": "Travelstar Z5K500", "capacity_gb": 500,
                    "serial_number": "HDD-DEMO-0001", "may_hold_personal_data": True,
                    "notes": "Dysk darczyńcy: może zawierać jego dane; do wyczyszczenia przed przekazaniem."}],
         "reason": "Sprawdzono fakturę, licencję systemu i podpisane oświadczenie o nieodpłatnym przekazaniu "
                   "osobie potrzebującej.",
     }},
    {"donor_name": "Maria Przykładowa (darczyńca demonstracyjny)",
     "donor_contact": "e-mail: darczynca@example.invalid", "offered_on": date(2021, 7, 5), "kind": "tablet",
     "manufacturer": "Samsung", "model": "Galaxy Tab A 10.1 (SM-T510)", "serial_number": "R52-DEMO-0002",
     "description": "Tablet z etui i ładowarką, ekran bez rys.",
     "legal_source": LegalSource.EMPLOYER,
     "legal_source_reference": "Umowa wykupu sprzętu od pracodawcy z 02.03.2021 (przykładowa)",
     "software_licences": "Android 11 (system producenta), bez aplikacji płatnych.",
     "free_of_charge_declared": True},
]


def load_demo(facts: dict[str, Any], *, by, created: Counter, skipped: Counter) -> None:
    """Each record is made by the demo account of the role that makes it in the office (the project
    manager runs the project, the legal office registers the order, the IT office takes donations in),
    or by the loading account when the demo accounts were not created."""
    users = {u.username: u for u in get_user_model().objects.filter(username__in=[MANAGER, LAWYER])}
    manager, lawyer = users.get(MANAGER), users.get(LAWYER)
    project = _project(PROJECT, manager=manager, by=manager or by, created=created, skipped=skipped)
    if project is not None:
        _order(ORDER, project, by=lawyer or by, created=created, skipped=skipped)
    for offer in OFFERS:
        _offer(offer, by=by, created=created, skipped=skipped)


def _project(data: dict[str, Any], *, manager, by, created: Counter, skipped: Counter) -> GrantProject | None:
    project = GrantProject.objects.filter(agreement_number=data["agreement_number"]).first()
    if project is not None:
        skipped["grant projects"] += 1
        skipped["beneficiaries"] += project.beneficiaries.count()
        skipped["loans"] += Loan.objects.filter(recipient__beneficiary__project=project).count()
        skipped["obligation records"] += ObligationRecord.objects.filter(obligation__project=project).count()
        return project
    kits = Kit.objects.filter(code__startswith="UML/EI/")
    if not kits.exists():  # the register part of the demo was not loaded: nothing to build the project on
        return None
    project = services.project_create(by=by, manager=manager, **data)
    created["grant projects"] += 1
    services.project_add_devices(project=project, kits=list(kits), by=by)

    _households(project, by=by, created=created)
    _institutions(project, SCHOOLS, BeneficiaryKind.SCHOOL, by=by, created=created)
    _institutions(project, CENTRES, BeneficiaryKind.CARE_CENTRE, by=by, created=created)
    _obligations(project, by=by, created=created)
    return project


def _households(project: GrantProject, *, by, created: Counter) -> None:
    spec = HOUSEHOLDS
    kits = Kit.objects.filter(code__startswith=spec["kit_prefix"]).order_by("code")
    for n, kit in enumerate(kits, start=1):
        beneficiary = services.beneficiary_create(
            project=project, by=by, kind=BeneficiaryKind.HOUSEHOLD, code=spec["code"].format(n=n),
            name=spec["name"].format(n=n), address=f"ul. {STREETS[(n - 1) % len(STREETS)]}, 64-100 Leszno",
            eligibility_basis=spec["eligibility_basis"], qualified_on=spec["qualified_on"],
            eligibility_reference=spec["eligibility_reference"].format(n=n))
        created["beneficiaries"] += 1
        services.beneficiary_allocate(beneficiary=beneficiary, kit=kit, starts_on=spec["starts_on"], by=by,
                                      condition_at_handover=spec["condition"], accessories=spec["accessories"])
        created["loans"] += 1


def _institutions(project: GrantProject, spec: dict[str, Any], kind: str, *, by, created: Counter) -> None:
    """One beneficiary per place the register puts the sets (a school's lab, a centre), holding them all
    under one loan."""
    places: dict[str, list[int]] = {}
    for location, device_id in (Device.objects.filter(kit__code__startswith=spec["kit_prefix"])
                                .order_by("kit__code", "inventory_number").values_list("location", "pk")):
        places.setdefault(location, []).append(device_id)
    for n, (location, device_ids) in enumerate(places.items(), start=1):
        beneficiary = services.beneficiary_create(
            project=project, by=by, kind=kind, code=spec["code"].format(n=n), name=location, address="64-100 Leszno",
            eligibility_basis=spec["eligibility_basis"], qualified_on=spec["qualified_on"])
        created["beneficiaries"] += 1
        services.beneficiary_allocate(beneficiary=beneficiary, devices=list(Device.objects.filter(pk__in=device_ids)),
                                      starts_on=spec["starts_on"], by=by, condition_at_handover=spec["condition"],
                                      accessories=spec["accessories"])
        created["loans"] += 1


def _obligations(project: GrantProject, *, by, created: Counter) -> None:
    codes = dict(Beneficiary.objects.filter(project=project).values_list("code", "pk"))
    for spec in OBLIGATIONS:
        obligation = services.obligation_create(project=project, kind=spec["kind"], description=spec["description"],
                                                applies_to=spec["applies_to"], starts_on=OBLIGATIONS_FROM,
                                                ends_on=OBLIGATIONS_UNTIL, by=by)
        applies = Beneficiary.objects.filter(project=project)
        if spec["applies_to"]:
            applies = applies.filter(kind=spec["applies_to"])
        for month in obligation.months():
            missing = {codes[code] for (kind, code), months in GAPS.items() if kind == spec["kind"] and month in months}
            chosen = list(applies.exclude(pk__in=missing)) if missing else None
            records = services.obligation_record_month(obligation=obligation, month=month, by=by,
                                                       proof_reference=spec["proof"].format(month=month),
                                                       beneficiaries=chosen)
            created["obligation records"] += len(records)


def _order(data: dict[str, Any], project: GrantProject, *, by, created: Counter, skipped: Counter) -> None:
    if MayoralOrder.objects.filter(number=data["number"]).exists():
        skipped["mayoral orders"] += 1
        return
    order = services.order_create(by=by, project=project, **data)
    created["mayoral orders"] += 1
    households = list(Beneficiary.objects.filter(project=project, kind=BeneficiaryKind.HOUSEHOLD).order_by("code"))
    services.order_annex_add(order=order, by=by, beneficiaries=households)


def _offer(data: dict[str, Any], *, by, created: Counter, skipped: Counter) -> None:
    data = dict(data)
    accept = data.pop("accept", None)
    if DonationOffer.objects.filter(serial_number=data["serial_number"]).exists():
        skipped["donation offers"] += 1
        return
    offer = services.donation_offer_create(by=by, **data)
    created["donation offers"] += 1
    if accept:
        services.donation_accept(offer=offer, by=by, **accept)
