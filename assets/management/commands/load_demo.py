"""Load the demo register drawn from the two source documents, and one demo account per role.

The facts (Kielce 2020: the eSesja tablets; Leszno: office computers past their life and the
e-Inclusion sets of 2013-2015) are in fixtures/demo.json. Every record goes through assets.services, so
each device has its registration event, its history rows and, where the fixture says so, its later
moves (put in use, sent to repair, retired).

Running the command again creates nothing twice: suppliers are matched by NIP, contracts by supplier and
number, kits by code and devices by inventory number, and whatever already exists is left as it is.

Demo accounts (with printed, freshly reset passwords) exist only for a local demo: with DEBUG off the
command refuses to run, unless `--without-accounts` asks for the register data alone.
"""
from __future__ import annotations

import json
import secrets
from importlib import import_module
from importlib.util import find_spec
import time
from collections import Counter
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from dateutil.relativedelta import relativedelta
from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils.translation import gettext as _
from rest_framework.authtoken.models import Token

from assets import services
from assets.choices import ManagedBy
from assets.models import Contract, Device, Kit, Supplier
from core.exceptions import DomainError
from core.roles import ROLE_LABELS, Role

DEFAULT_FIXTURE = Path(settings.BASE_DIR) / "fixtures" / "demo.json"

# username, role (None for the superuser), staff flag. The IT office account is the actor of the load.
DEMO_ACCOUNTS: list[tuple[str, str | None, bool]] = [
    ("admin", None, True),
    ("informatyk", Role.IT_OFFICE, True),
    ("weryfikator", Role.IT_OFFICE, True),  # the second person who validates the clerk's wipes
    ("kierownik", Role.PROJECT_MANAGER, True),
    ("prawnik", Role.LEGAL_OFFICE, True),
    ("radny", Role.COUNCILLOR, False),
    ("audytor", Role.AUDITOR, True),
]
LOADING_ACCOUNT = "informatyk"

SUPPLIER_KEYS = ("name", "nip", "regon", "address", "contact_person", "email", "phone", "notes")
CONTRACT_KEYS = ("number", "subject", "funding_source", "funding_details", "procurement_basis", "notes")


def _error_text(exc: DomainError | ValidationError) -> str:
    if isinstance(exc, ValidationError):
        return " ".join(exc.messages)
    return exc.message


@dataclass
class DemoAccount:
    user: Any
    role: str | None
    password: str
    token: str


def reset_demo_accounts() -> list[DemoAccount]:
    """Create or reset the demo accounts: a new random password each time, one role each, an API token.

    The caller checks DEBUG; this must never run on a deployment holding real data.
    """
    User = get_user_model()
    groups = {group.name: group for group in Group.objects.filter(name__in=ROLE_LABELS)}
    missing = sorted(set(ROLE_LABELS) - set(groups))
    if missing:
        raise CommandError(_("The role groups %(groups)s do not exist; run “manage.py migrate” first.")
                           % {"groups": ", ".join(missing)})
    accounts = []
    for username, role, is_staff in DEMO_ACCOUNTS:
        user, _created = User.objects.get_or_create(username=username)
        password = secrets.token_urlsafe(9)
        user.set_password(password)
        user.is_active = True
        user.is_staff = is_staff
        user.is_superuser = role is None
        user.save()
        user.groups.set([groups[role]] if role else [])
        token, _created = Token.objects.get_or_create(user=user)
        accounts.append(DemoAccount(user, role, password, token.key))
    return accounts


class DemoLoader:
    """Turns the fixture into service calls, skipping whatever is already in the register."""

    def __init__(self, facts: dict[str, Any], *, by) -> None:
        self.facts = facts
        self.by = by
        self.models: dict[str, dict[str, Any]] = facts["models"]
        self.registration_reason: str = facts.get("registration_reason", "")
        self.created: Counter[str] = Counter()
        self.skipped: Counter[str] = Counter()
        self.suppliers: dict[str, Supplier] = {}
        self.contracts: dict[str, Contract] = {}
        # One query each up front, so that a second run costs a few queries, not one per device.
        self.existing_devices = set(Device.objects.values_list("inventory_number", flat=True))
        self.existing_kits = {kit.code: kit for kit in Kit.objects.all()}

    def run(self) -> None:
        for item in self.facts["suppliers"]:
            self._supplier(item)
        for item in self.facts["contracts"]:
            self._contract(item)
        for item in self.facts.get("devices", []):
            self._device(item, contract=self.contracts[item["contract"]],
                         purchase_date=date.fromisoformat(item["purchase_date"]), location=item.get("location", ""))
        for batch in self.facts.get("batches", []):
            self._batch(batch)
        # Each later app (loans, faults, ...) loads its own part from a `demo` module of its own, so the
        # register does not import the apps built on it. In INSTALLED_APPS order: loans before faults.
        for app in apps.get_app_configs():
            ours = Path(app.path).parent == Path(settings.BASE_DIR)
            if ours and app.name != "assets" and find_spec(f"{app.name}.demo") is not None:
                import_module(f"{app.name}.demo").load_demo(self.facts, by=self.by, created=self.created,
                                                            skipped=self.skipped)

    # --- register records ------------------------------------------------------------------------

    def _supplier(self, item: dict[str, Any]) -> None:
        supplier = Supplier.objects.filter(nip=item["nip"]).first()
        if supplier is None:
            supplier = services.supplier_create(by=self.by, **{k: item[k] for k in SUPPLIER_KEYS if k in item})
            self.created["suppliers"] += 1
        else:
            self.skipped["suppliers"] += 1
        self.suppliers[item["key"]] = supplier

    def _contract(self, item: dict[str, Any]) -> None:
        supplier = self.suppliers[item["supplier"]]
        contract = Contract.objects.filter(supplier=supplier, number=item["number"]).first()
        if contract is None:
            contract = services.contract_create(
                by=self.by, supplier=supplier, signed_on=date.fromisoformat(item["signed_on"]),
                value=Decimal(item["value"]), **{k: item[k] for k in CONTRACT_KEYS if k in item},
            )
            self.created["contracts"] += 1
        else:
            self.skipped["contracts"] += 1
        self.contracts[item["key"]] = contract

    def _device(self, item: dict[str, Any], *, contract: Contract, purchase_date: date, location: str,
                kit: Kit | None = None) -> None:
        """Register one device with its storage medium and replay its moves, unless it is registered."""
        number = item["inventory_number"]
        if number in self.existing_devices:
            self.skipped["devices"] += 1
            self.skipped["storage media"] += 1 if self.models[item["model"]].get("medium") else 0
            self.skipped["moves"] += len(item.get("moves", []))
            return
        try:
            self._register(item, contract=contract, purchase_date=purchase_date, location=location, kit=kit)
        except (DomainError, ValidationError) as exc:
            raise CommandError(_("Device %(number)s was refused, nothing was loaded: %(error)s")
                               % {"number": number, "error": _error_text(exc)}) from exc
        self.existing_devices.add(number)

    def _register(self, item: dict[str, Any], *, contract: Contract, purchase_date: date, location: str,
                  kit: Kit | None) -> None:
        number = item["inventory_number"]
        spec = self.models[item["model"]]
        vendor = item.get("managing_vendor")
        device = services.device_register(
            by=self.by,
            reason=self.registration_reason,
            inventory_number=number,
            kind=spec["kind"],
            manufacturer=spec["manufacturer"],
            model=spec["model"],
            serial_number=item.get("serial_number", ""),
            purchase_date=purchase_date,
            purchase_price=Decimal(spec["purchase_price"]),
            contract=contract,
            warranty_ends_on=purchase_date + relativedelta(months=spec["warranty_months"])
            if spec.get("warranty_months") else None,
            location=location,
            managed_by=item.get("managed_by", ManagedBy.IT_OFFICE),
            managing_vendor=self.suppliers[vendor] if vendor else None,
            expected_life_years=spec.get("expected_life_years", 10),
            kit=kit,
            notes=item.get("notes", ""),
        )
        self.created["devices"] += 1
        if spec.get("medium"):
            services.storage_medium_add(by=self.by, device=device,
                                        serial_number=item.get("medium_serial_number", ""), **spec["medium"])
            self.created["storage media"] += 1
        for step in item.get("moves", []):
            params = dict(step)
            move = params.pop("move")
            _to_status, service = services.DEVICE_MOVES[move]
            service(device=device, by=self.by, **params)
            self.created["moves"] += 1

    def _batch(self, batch: dict[str, Any]) -> None:
        """A series of identical devices or kits: `{n}` numbers them, `{location}` and `{seat}` place them."""
        contract = self.contracts[batch["contract"]]
        purchase_date = date.fromisoformat(batch["purchase_date"])
        places = [(place["location"], seat) for place in batch["locations"] for seat in range(1, place["count"] + 1)]
        if len(places) != batch["count"]:
            raise CommandError(_("Batch “%(label)s”: its locations hold %(places)d items, not %(count)d.")
                               % {"label": batch["label"], "places": len(places), "count": batch["count"]})
        kit_spec = batch.get("kit")
        for n, (location, seat) in enumerate(places, start=1):
            names = {"n": n, "location": location, "seat": seat}
            kit = self._kit(kit_spec, names) if kit_spec else None
            for template in batch["devices"]:
                item = {key: value.format(**names) if isinstance(value, str) else value
                        for key, value in template.items()}
                self._device(item, contract=contract, purchase_date=purchase_date, location=location, kit=kit)

    def _kit(self, spec: dict[str, Any], names: dict[str, Any]) -> Kit:
        code = spec["code"].format(**names)
        kit = self.existing_kits.get(code)
        if kit is None:
            # Created empty: its devices name it when they are registered, so each is saved once.
            kit = services.kit_create(code=code, name=spec["name"].format(**names), devices=[], by=self.by,
                                      notes=spec.get("notes", "").format(**names))
            self.existing_kits[code] = kit
            self.created["kits"] += 1
        else:
            self.skipped["kits"] += 1
        return kit


class Command(BaseCommand):
    @property
    def help(self) -> str:  # argparse needs a str, so translated when the parser is built, not lazily
        return _(
            "Load the demo register (Kielce eSesja tablets, Leszno office computers and e-Inclusion sets) through "
            "the services, and under DEBUG create one demo account per role with a new password. Safe to re-run."
        )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--fixture", default=str(DEFAULT_FIXTURE),
                            help=_("JSON file with the demo facts (default: fixtures/demo.json)."))
        parser.add_argument("--without-accounts", action="store_true",
                            help=_("Load the register data only, without demo accounts; "
                                   "the only way to run with DEBUG off."))

    def handle(self, *args, fixture: str, without_accounts: bool, **options) -> None:
        if not settings.DEBUG and not without_accounts:
            raise CommandError(_(
                "Refused: DEBUG is off, so this looks like a real deployment. Demo accounts with printed "
                "passwords are created only when DEBUG is on. To load the demo register without accounts, "
                "run again with --without-accounts."
            ))
        try:
            facts = json.loads(Path(fixture).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise CommandError(_("Cannot read the demo data %(path)s: %(error)s") % {"path": fixture, "error": exc}) from exc

        started = time.monotonic()
        accounts: list[DemoAccount] = []
        try:
            with transaction.atomic():
                if not without_accounts:
                    accounts = reset_demo_accounts()
                actor = next((a.user for a in accounts if a.user.username == LOADING_ACCOUNT), None)
                loader = DemoLoader(facts, by=actor)
                loader.run()
                if connection.vendor == "postgresql":
                    # Thousands of rows just written: fresh planner statistics, so that the first pages and
                    # reports do not plan for empty tables (nested loops over 16,000 proof records).
                    with connection.cursor() as cursor:
                        cursor.execute("ANALYZE")
        except (DomainError, ValidationError) as exc:
            raise CommandError(_("The demo data was refused, nothing was loaded: %(error)s")
                               % {"error": _error_text(exc)}) from exc
        elapsed = time.monotonic() - started

        self._report(loader, elapsed)
        if accounts:
            self._print_accounts(accounts)
        elif without_accounts:
            self.stdout.write(_("No demo accounts were created (--without-accounts)."))

    def _report(self, loader: DemoLoader, elapsed: float) -> None:
        labels = {
            "suppliers": _("suppliers"),
            "contracts": _("contracts"),
            "kits": _("kits"),
            "devices": _("devices"),
            "storage media": _("storage media"),
            "moves": _("lifecycle moves"),
            "council terms": _("council terms"),
            "loans": _("loans"),
            "fault reports": _("fault reports"),
            "wipe sessions": _("wipe sessions"),
            "sanitizations": _("sanitizations"),
            "disk removals": _("disk removals"),
            "grant projects": _("grant projects"),
            "beneficiaries": _("beneficiaries"),
            "obligation records": _("obligation records"),
            "mayoral orders": _("mayoral orders"),
            "donation offers": _("donation offers"),
        }
        self.stdout.write(self.style.SUCCESS(_("Demo register loaded in %(seconds).1f s.") % {"seconds": elapsed}))
        for key, label in labels.items():
            self.stdout.write(_("  %(label)s: %(created)d created, %(skipped)d already present")
                              % {"label": label, "created": loader.created[key], "skipped": loader.skipped[key]})

    def _print_accounts(self, accounts: list[DemoAccount]) -> None:
        header = (_("username"), _("role"), _("password"), _("API token"))
        rows = [
            (a.user.username, str(ROLE_LABELS[a.role]) if a.role else _("superuser (every permission)"),
             a.password, a.token)
            for a in accounts
        ]
        widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]

        def line(row) -> str:
            return "  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()

        self.stdout.write("")
        self.stdout.write(self.style.WARNING(
            _("Demo accounts (DEBUG only; the passwords are new on every run):")))
        self.stdout.write(line(header))
        self.stdout.write(line(["-" * w for w in widths]))
        for row in rows:
            self.stdout.write(line(row))
        self.stdout.write(_("Admin: %(url)s   API: %(api)s   API docs: %(docs)s")
                          % {"url": f"{settings.SITE_URL}/admin/", "api": f"{settings.SITE_URL}/api/",
                             "docs": f"{settings.SITE_URL}/api/docs/"})
