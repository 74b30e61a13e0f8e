"""The register the compliance benchmark runs on: a national programme's devices with their whole history,
and a known number of each gap the compliance check looks for.

The devices are split into segments, runs of consecutive ids that share a story: in use within their
expected life, on loan to a school, retired, wiped and given away, scrapped, ... Each segment says how its
devices came to where they are (their events), what was recorded about them (media, wipes, disk removals,
loans, faults, transfers, liquidations, documents), and whether it hides a gap. A planted segment holds
gaps of one kind only, and every other segment is clean for every kind, including the ones built to look
like a gap to a careless rule: an old device in stock (past its life, but not in use), a returned loan past
its planned end, a long-open fault already resolved, a disk destroyed long after its removal, a device that
left with its media inside under the beneficiary exception, a project device given away after the
durability period, a transfer not covered by its order but never approved.

Devices, media and every table of thousands of rows are written from Python, through COPY on PostgreSQL
and multi-row INSERTs on SQLite; the events (several per device) by one INSERT ... SELECT per segment.
Every id is chosen here, so the plan knows which records hold which gap, and how many.
"""
from __future__ import annotations

import hashlib
import json
import random
import sys
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

# Device statuses, media kinds and the other codes, as the apps spell them (assets.choices & co.); kept as
# plain strings so that this module reads without Django.
IN_STOCK, IN_USE, ON_LOAN, IN_REPAIR = "in_stock", "in_use", "on_loan", "in_repair"
RETIRED, SANITIZED, TRANSFERRED, SCRAPPED, LOST = "retired", "sanitized", "transferred", "scrapped", "lost"
ACTIVE = frozenset({IN_STOCK, IN_USE, ON_LOAN, IN_REPAIR})  # what the end-of-life forecast counts
IN_SERVICE = frozenset({IN_USE, ON_LOAN})  # what past_expected_life looks at
END_OF_LIFE_PATH = frozenset({RETIRED, SANITIZED, TRANSFERRED, SCRAPPED})

GAP_KINDS = ("data_left_office", "transfer_not_covered", "durability_breach", "loan_without_agreement",
             "loan_overdue", "fault_open_too_long", "disk_not_destroyed", "document_altered", "past_expected_life")

ALL_KINDS = ("laptop", "laptop", "desktop", "tablet", "laptop", "monitor", "tablet", "phone", "desktop", "router")
COMPUTERS = ("laptop", "desktop", "tablet", "laptop")
LOANABLE = ("laptop", "tablet", "laptop")
MODELS = {
    "laptop": [("Dell", "Latitude 5440"), ("Lenovo", "ThinkPad T14 Gen 4"), ("HP", "ProBook 450 G10")],
    "desktop": [("Dell", "OptiPlex 7010"), ("Lenovo", "ThinkCentre M70q"), ("HP", "EliteDesk 800 G9")],
    "tablet": [("Samsung", "Galaxy Tab S9"), ("Lenovo", "Tab M10"), ("Apple", "iPad 10.9")],
    "phone": [("Samsung", "Galaxy A54"), ("Apple", "iPhone 13"), ("Motorola", "moto g84")],
    "monitor": [("Dell", "P2423D"), ("iiyama", "ProLite XUB2493HS"), ("LG", "24MP400")],
    "router": [("TP-Link", "Archer AX55"), ("MikroTik", "hAP ax2"), ("Huawei", "B535")],
}
# Price range per kind, in grosze: (lowest, span)
PRICES = {"laptop": (250_000, 200_000), "desktop": (300_000, 200_000), "tablet": (120_000, 130_000),
          "phone": (90_000, 110_000), "monitor": (60_000, 60_000), "router": (15_000, 45_000)}
LOCATIONS = ["magazyn", "pokój 101", "pokój 204", "sala sesyjna", "Wydział Edukacji", "USC", "SP nr 3", "MOPS"]

LOAN_GROUP = 40  # devices per loan to a school or an office
SET_GROUP = 3  # devices per beneficiary's set (grant projects)
TRANSFER_GROUP = 50  # devices per free transfer to an institution
LIQUIDATION_GROUP = 100  # devices per liquidation
INSTITUTIONS = 50
# Segments whose media were taken out: what became of the disks, and how many days ago (at least, plus a spread)
# they were removed. COMPLIANCE_DISK_DESTROY_DAYS is 90: the recent ones are within it, the long ones past it.
REMOVALS = {"transferred_disks_destroyed": ("destroyed", 200, 300), "retired_disk_held": ("held", 5, 50),
            "retired_disk_held_long": ("held", 100, 800)}
DOCUMENT_BYTES = 47_000  # the size of the loan agreements and protocols the service issues


@dataclass
class Segment:
    """A run of consecutive device ids with one story."""

    name: str
    share: float | None  # of all the devices; None: what the others leave
    status: str
    kinds: tuple[str, ...]
    age: str  # "within" its expected life, "past" it, "any", or bought by project "a" / "b"
    path: tuple[str, ...]  # the statuses it went through, registration first
    extras: tuple[str, ...] = ()  # a detour (to repair and back) that one device in `extra_every` made
    extra_every: int = 0
    minimum: int = 1
    first: int = 0
    size: int = 0

    @property
    def ids(self) -> range:
        return range(self.first, self.first + self.size)

    @property
    def last(self) -> int:
        return self.first + self.size - 1


P_IN_USE = (IN_STOCK, IN_USE)
P_RETIRED = (IN_STOCK, IN_USE, RETIRED)
P_SANITIZED = P_RETIRED + (SANITIZED,)
REPAIR_AND_BACK = {IN_USE: (IN_REPAIR, IN_USE), ON_LOAN: (IN_REPAIR, ON_LOAN), IN_STOCK: (IN_USE, IN_STOCK)}


def _segments() -> list[Segment]:
    S = Segment
    return [
        # -- in the office, clean --
        S("in_use", None, IN_USE, ALL_KINDS, "within", P_IN_USE, REPAIR_AND_BACK[IN_USE], 2),
        S("in_stock", .12, IN_STOCK, ALL_KINDS, "any", (IN_STOCK,), REPAIR_AND_BACK[IN_STOCK], 2),
        S("in_stock_after_loan", .03, IN_STOCK, COMPUTERS, "within", (IN_STOCK, ON_LOAN, IN_STOCK)),
        S("in_repair", .01, IN_REPAIR, ALL_KINDS, "any", (IN_STOCK, IN_USE, IN_REPAIR)),
        S("on_loan", .18, ON_LOAN, LOANABLE, "within", (IN_STOCK, IN_USE, IN_STOCK, ON_LOAN), REPAIR_AND_BACK[ON_LOAN],
          4, minimum=LOAN_GROUP),
        S("project_on_loan", .004, ON_LOAN, ("laptop",), "b", (IN_STOCK, ON_LOAN), minimum=SET_GROUP),
        S("retired", .04, RETIRED, ALL_KINDS, "past", P_RETIRED),
        S("retired_disk_held", .002, RETIRED, COMPUTERS, "past", P_RETIRED),
        S("sanitized", .03, SANITIZED, ALL_KINDS, "past", P_SANITIZED),
        S("lost", .003, LOST, ALL_KINDS, "any", (IN_STOCK, IN_USE, LOST)),
        # -- gone, clean --
        S("transferred", .05, TRANSFERRED, ALL_KINDS, "past", P_SANITIZED + (TRANSFERRED,)),
        S("transferred_disks_destroyed", .005, TRANSFERRED, COMPUTERS, "past", P_RETIRED + (TRANSFERRED,)),
        S("transferred_to_holder", .002, TRANSFERRED, ("laptop",), "a", (IN_STOCK, ON_LOAN, TRANSFERRED),
          minimum=SET_GROUP),
        S("scrapped", .04, SCRAPPED, ALL_KINDS, "past", P_SANITIZED + (SCRAPPED,)),
        S("transfer_pending_not_covered", .0001, SANITIZED, ("laptop",), "past", P_SANITIZED, minimum=4),
        # -- gaps --
        S("in_use_past_life", .02, IN_USE, ALL_KINDS, "past", P_IN_USE),
        S("on_loan_past_life", .005, ON_LOAN, LOANABLE, "past", (IN_STOCK, ON_LOAN)),
        S("on_loan_overdue", .004, ON_LOAN, LOANABLE, "within", (IN_STOCK, ON_LOAN)),
        S("on_loan_no_agreement", .002, ON_LOAN, LOANABLE, "within", (IN_STOCK, ON_LOAN)),
        S("retired_disk_held_long", .001, RETIRED, COMPUTERS, "past", P_RETIRED),
        S("gone_not_sanitized", .0003, TRANSFERRED, COMPUTERS, "past", P_RETIRED + (TRANSFERRED,)),
        S("gone_wipe_not_validated", .0002, SCRAPPED, COMPUTERS, "past", P_RETIRED + (SCRAPPED,)),
        S("gone_wipe_not_fit", .0002, TRANSFERRED, COMPUTERS, "past", P_SANITIZED + (TRANSFERRED,)),
        S("gone_one_medium_left", .0001, SCRAPPED, ("desktop",), "past", P_RETIRED + (SCRAPPED,)),
        S("gone_no_media_unconfirmed", .0002, SCRAPPED, ("monitor", "router"), "past", P_SANITIZED + (SCRAPPED,)),
        S("transfer_order_expired", .00005, TRANSFERRED, ("laptop",), "past", P_SANITIZED + (TRANSFERRED,)),
        S("transfer_order_wrong_kind", .00005, TRANSFERRED, ("laptop",), "past", P_SANITIZED + (TRANSFERRED,)),
        S("transfer_not_in_annex", .00005, TRANSFERRED, ("laptop",), "past", P_SANITIZED + (TRANSFERRED,)),
        S("transfer_approved_not_in_annex", .00005, SANITIZED, ("laptop",), "past", P_SANITIZED),
        S("durability_transfer", .0001, TRANSFERRED, ("laptop",), "b", P_SANITIZED + (TRANSFERRED,)),
        S("durability_liquidation", .0001, SCRAPPED, ("laptop",), "b", P_SANITIZED + (SCRAPPED,)),
    ]


def add_years(day: date, years: int) -> date:
    """donations.models.add_years: 29 February becomes 28 February in a common year."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


@dataclass
class Group:
    """Consecutive devices of one segment handled together: a loan, a transfer or a liquidation."""

    id: int
    segment: str
    first: int
    last: int
    values: dict[str, Any] = field(default_factory=dict)

    @property
    def device_ids(self) -> range:
        return range(self.first, self.last + 1)


def _groups(segment: Segment, size: int, first_id: int) -> list[Group]:
    return [Group(first_id + k, segment.name, start, min(start + size - 1, segment.last))
            for k, start in enumerate(range(segment.first, segment.last + 1, size))]


class Plan:
    """Every id and date of the register, and the gaps it holds (`expected`), for `n` devices at `today`."""

    def __init__(self, n: int, today: date) -> None:
        self.n, self.today = n, today
        self.jan1 = date(today.year, 1, 1)
        self.now = datetime.now(UTC).replace(microsecond=0)
        self.segments = _segments()
        fixed = 0
        for s in self.segments:
            if s.share is not None:
                s.size = max(s.minimum, round(n * s.share))
                fixed += s.size
        rest = next(s for s in self.segments if s.share is None)
        rest.size = n - fixed
        if rest.size < n // 3:
            raise SystemExit(f"--devices {n} is too few for every kind of gap; use at least 10,000.")
        next_id = 1
        for s in self.segments:
            s.first = next_id
            next_id += s.size
        self.by_name = {s.name: s for s in self.segments}

        # Two grant projects: A's durability period is over, B's lasts three more years.
        self.projects = {}
        for pid, code, years_ago in ((1, "a", 8), (2, "b", 3)):
            starts = today - timedelta(days=365 * years_ago)
            final_payment = starts + timedelta(days=365)
            self.projects[code] = {
                "id": pid, "starts_on": starts, "ends_on": final_payment - timedelta(days=30),
                "final_payment_on": final_payment, "durability_ends_on": add_years(final_payment, 5)}

        # Contracts over twelve years; a device takes the last one signed before its purchase.
        self.suppliers = 20
        self.contracts = max(5, n // 2000)
        self.contracts_from = today - timedelta(days=12 * 365 + 30)
        self.contract_step = (12 * 365) // self.contracts

        self._plan_loans()
        self._plan_transfers()
        self._plan_liquidations()
        self._plan_faults()
        self._plan_documents()
        self._plan_expected()

    # -- the devices --

    def device_dates(self, i: int, segment: Segment) -> tuple[int, date]:
        """Expected life (years) and purchase date of device i."""
        life = 5 + (i * 31) % 6
        age_kind = segment.age
        if age_kind == "any":
            age_kind = "past" if i % 3 == 0 else "within"
        if age_kind == "within":
            # Its life ends ten days from today at the soonest.
            age = 30 + (i * 7919) % (life * 365 - 40)
        elif age_kind == "past":
            # Its life ended before 1 January of this year, at least ten days before.
            low = life * 365 + (self.today - self.jan1).days + 10
            age = low + (i * 7919) % (12 * 365 - low)
        else:
            project = self.projects[age_kind]
            return life, project["starts_on"] + timedelta(days=30 + i % 90)
        return life, self.today - timedelta(days=age)

    def removed_on(self, segment: str, i: int) -> date:
        _status, days, spread = REMOVALS[segment]
        return self.today - timedelta(days=days + i % spread)

    def kind(self, i: int, segment: Segment) -> str:
        return segment.kinds[i % len(segment.kinds)]

    @staticmethod
    def media(i: int, kind: str) -> list[tuple[int, str, int]]:
        """The storage media of device i: (id, kind, capacity in GB). Ids 2i-1 and 2i are its two slots."""
        if kind == "laptop":
            media = [(2 * i - 1, "nvme" if i % 3 else "ssd", 256 * (1 + i % 4))]
            if i % 5 == 0:
                media.append((2 * i, "hdd", 1000))
            return media
        if kind == "desktop":
            return [(2 * i - 1, "ssd", 512), (2 * i, "hdd", 1000)]
        if kind in ("tablet", "phone"):
            return [(2 * i - 1, "emmc", 64 * (1 + i % 4))]
        return []

    def steps(self, segment: Segment) -> list[tuple[int, str, str, int]]:
        """The events of a segment's devices: (position, from status, to status, detour?)."""
        statuses = segment.path + segment.extras
        return [(k, statuses[k - 1] if k else "", status, int(k >= len(segment.path)))
                for k, status in enumerate(statuses)]

    def status_changed_day(self, i: int, segment: Segment, purchased: date) -> date:
        total = len(segment.path) + len(segment.extras)
        detour = segment.extra_every and i % segment.extra_every == 0
        last = total - 1 if detour else len(segment.path) - 1
        return purchased + timedelta(days=(self.today - purchased).days * last // total)

    # -- loans --

    def _plan_loans(self) -> None:
        t = self.today
        self.loans: list[Group] = []
        self.recipients: list[dict] = []  # id, kind, name
        self.beneficiaries: list[dict] = []
        self.loan_of_first: dict[str, tuple[int, int, int]] = {}  # segment -> (first loan id, first device, size)

        def recipient(kind: str, name: str) -> int:
            rid = len(self.recipients) + 1
            self.recipients.append({"id": rid, "kind": kind, "name": name})
            return rid

        for name, size in (("on_loan", LOAN_GROUP), ("on_loan_past_life", LOAN_GROUP),
                           ("on_loan_overdue", LOAN_GROUP), ("on_loan_no_agreement", LOAN_GROUP),
                           ("in_stock_after_loan", LOAN_GROUP), ("project_on_loan", SET_GROUP),
                           ("transferred_to_holder", SET_GROUP)):
            segment = self.by_name[name]
            groups = _groups(segment, size, len(self.loans) + 1)
            self.loan_of_first[name] = (groups[0].id, segment.first, size)
            for g in groups:
                k = g.id
                if name.startswith("on_loan"):
                    g.values = {"recipient": recipient("school", f"Szkoła Podstawowa nr {k}"),
                                "purpose": "staff_work", "status": "open", "open": True, "ended_on": None}
                    if name == "on_loan_overdue":
                        g.values.update(starts_on=t - timedelta(days=400 + k % 300),
                                        planned_end_on=t - timedelta(days=10 + k % 300))
                    else:
                        g.values.update(starts_on=t - timedelta(days=30 + k * 37 % 700),
                                        planned_end_on=t + timedelta(days=30 + k % 700))
                elif name == "in_stock_after_loan":
                    starts = t - timedelta(days=1000 + k % 500)
                    planned = starts + timedelta(days=365)
                    g.values = {"recipient": recipient("school", f"Zespół Szkół nr {k}"), "purpose": "staff_work",
                                "status": "returned", "open": False, "starts_on": starts, "planned_end_on": planned,
                                "ended_on": planned + timedelta(days=k % 60 - 30)}
                else:
                    code = "a" if name == "transferred_to_holder" else "b"
                    project = self.projects[code]
                    rid = recipient("household", f"Gospodarstwo domowe {code.upper()}-{k}")
                    self.beneficiaries.append({"id": len(self.beneficiaries) + 1, "project": project["id"],
                                               "code": f"EI/{code.upper()}/{k:06d}", "recipient": rid,
                                               "qualified_on": project["starts_on"] + timedelta(days=20)})
                    g.values = {"recipient": rid, "beneficiary": self.beneficiaries[-1]["id"],
                                "purpose": "grant_project", "starts_on": project["starts_on"] + timedelta(days=130),
                                "planned_end_on": project["durability_ends_on"]}
                    if code == "b":
                        g.values.update(status="open", open=True, ended_on=None)
                    else:  # given to the household after the durability period: see _plan_transfers
                        given = project["durability_ends_on"] + timedelta(days=30 + k % 300)
                        g.values.update(status="transferred", open=False, ended_on=given)
                self.loans.append(g)
        self.institutions = [recipient("institution", f"Fundacja Edukacyjna nr {k}") for k in range(1, INSTITUTIONS + 1)]

    def loan_of(self, segment: str, device_id: int) -> int:
        first_loan, first_device, size = self.loan_of_first[segment]
        return first_loan + (device_id - first_device) // size

    # -- mayoral orders, transfers, liquidations --

    def _plan_transfers(self) -> None:
        t = self.today
        a = self.projects["a"]
        twelve = t - timedelta(days=12 * 365 + 100)
        self.orders = {
            "free": {"id": 1, "number": "1/2014", "kind": "free_transfer", "from": twelve, "until": None,
                     "project": None, "title": "w sprawie nieodpłatnego przekazania zbędnego sprzętu komputerowego"},
            "expired": {"id": 2, "number": "2/2016", "kind": "free_transfer", "from": t - timedelta(days=3650),
                        "until": t - timedelta(days=5 * 365), "project": None,
                        "title": "w sprawie przekazania sprzętu szkołom (uchylone)"},
            "sale": {"id": 3, "number": "3/2020", "kind": "sale", "from": t - timedelta(days=6 * 365), "until": None,
                     "project": None, "title": "w sprawie sprzedaży zbędnych składników majątku ruchomego"},
            "liquidation": {"id": 4, "number": "4/2014", "kind": "liquidation", "from": twelve, "until": None,
                            "project": None, "title": "w sprawie likwidacji zużytego sprzętu elektronicznego"},
            "einclusion": {"id": 5, "number": "5/2024", "kind": "free_transfer",
                           "from": a["durability_ends_on"] + timedelta(days=1), "until": None, "project": a["id"],
                           "title": "w sprawie przekazania uczestnikom projektu e-Inclusion zestawów komputerowych"},
        }
        # Devices in each order's annex (by segment) and beneficiaries in its annex.
        self.annex = {
            "free": ["transferred", "transferred_disks_destroyed", "gone_not_sanitized", "gone_wipe_not_fit",
                     "durability_transfer"],
            "expired": ["transfer_order_expired"],
            "sale": ["transfer_order_wrong_kind"],
            "liquidation": ["scrapped", "gone_wipe_not_validated", "gone_one_medium_left",
                            "gone_no_media_unconfirmed", "durability_liquidation"],
        }
        self.transfers: list[Group] = []
        self.not_covered: list[int] = []  # transfer ids

        def add(segment: str, size: int, **values) -> list[Group]:
            groups = _groups(self.by_name[segment], size, len(self.transfers) + 1)
            for g in groups:
                g.values = {"status": "completed", "exception": False, **values}
            self.transfers.extend(groups)
            return groups

        for name in self.annex["free"][:-1]:
            for g in add(name, TRANSFER_GROUP, order="free"):
                g.values.update(recipient=self.institutions[g.id % INSTITUTIONS],
                                date=t - timedelta(days=20 + g.id * 53 % 2500))
        holders = [loan for loan in self.loans if loan.segment == "transferred_to_holder"]
        for g, loan in zip(add("transferred_to_holder", SET_GROUP, order="einclusion", exception=True), holders,
                           strict=True):
            g.values.update(recipient=loan.values["recipient"], date=loan.values["ended_on"],
                            beneficiary=loan.values["beneficiary"])
        for name, order, status, days in (("transfer_order_expired", "expired", "completed", 300),
                                          ("transfer_order_wrong_kind", "sale", "completed", 200),
                                          ("transfer_not_in_annex", "free", "completed", 150),
                                          ("transfer_approved_not_in_annex", "free", "approved", 5)):
            for g in add(name, 1, order=order, status=status):
                g.values.update(recipient=self.institutions[g.id % INSTITUTIONS],
                                date=t - timedelta(days=days + g.id % 50))
                self.not_covered.append(g.id)
        # Not covered either, but never approved: the check leaves drafts, reviews, rejections and cancellations.
        pending = (("draft", "free"), ("submitted", "free"), ("rejected", "sale"), ("cancelled", "expired"))
        for g in add("transfer_pending_not_covered", 1):
            status, order = pending[g.first % 4]
            g.values.update(status=status, order=order, recipient=self.institutions[g.id % INSTITUTIONS],
                            date=t - timedelta(days=3 + g.id % 20))
        for g in add("durability_transfer", 1, order="free"):
            g.values.update(recipient=self.institutions[g.id % INSTITUTIONS], date=t - timedelta(days=100 + g.id % 100),
                            override="Uzasadnienie: pilna potrzeba szkoły.")
        # The annexes of the pending transfers' orders list their devices where the order is not the free one.
        pending_annex = {"sale": [], "expired": []}
        for g in self.transfers:
            if g.segment == "transfer_pending_not_covered" and g.values["order"] in pending_annex:
                pending_annex[g.values["order"]].append(g.first)
        self.pending_annex = pending_annex

    def _plan_liquidations(self) -> None:
        t = self.today
        self.liquidations: list[Group] = []
        for name in self.annex["liquidation"]:
            size = LIQUIDATION_GROUP if name != "durability_liquidation" else self.by_name[name].size
            for g in _groups(self.by_name[name], size, len(self.liquidations) + 1):
                days = 50 if name == "durability_liquidation" else 30 + g.id * 41 % 2000
                g.values = {"date": t - timedelta(days=days)}
                self.liquidations.append(g)

    # -- faults on loaned devices --

    def _plan_faults(self) -> None:
        segment = self.by_name["on_loan"]
        old, recent, closed = (max(1, segment.size // 1000), max(1, segment.size // 250),
                               max(1, segment.size // 100))
        self.faults: list[tuple[int, int, str, int]] = []  # (fault id, device id, status, days ago)
        open_statuses = ("new", "acknowledged", "in_progress")
        device = segment.first
        for count, kind in ((old, "old"), (recent, "recent"), (closed, "closed")):
            for j in range(count):
                fid = len(self.faults) + 1
                if kind == "old":
                    self.faults.append((fid, device, open_statuses[j % 3], 45 + j % 300))
                elif kind == "recent":
                    self.faults.append((fid, device, open_statuses[j % 3], 1 + j % 20))
                else:
                    self.faults.append((fid, device, ("resolved", "rejected", "resolved")[j % 3], 40 + j % 500))
                device += 3
        if device > segment.last:
            raise SystemExit("Too many faults for the loaned devices.")
        self.faults_open_long = [f[0] for f in self.faults[:old]]

    # -- documents --

    def _plan_documents(self) -> None:
        """A loan agreement for every loan but the planted ones, a protocol for every completed transfer and
        every liquidation; a few files altered after issue and a few missing."""
        self.documents: list[dict] = []
        for loan in self.loans:
            if loan.segment != "on_loan_no_agreement":
                self._document("loan_agreement", "loan", loan.id, f"Umowa użyczenia nr {loan.id}",
                               "loan-agreement/1")
        for g in self.transfers:
            if g.values["status"] == "completed":
                g.values["protocol"] = self._document("transfer_protocol", "transfer", g.id,
                                                      f"Protokół nieodpłatnego przekazania PN/{g.id:06d}",
                                                      "transfer-protocol/1")
        for g in self.liquidations:
            g.values["protocol"] = self._document("liquidation_protocol", "liquidation", g.id,
                                                  f"Protokół likwidacji LK/{g.id:05d}", "liquidation-protocol/1")
        total = len(self.documents)
        altered, missing = max(1, total // 500), max(1, total // 2000)
        self.documents_altered = {1 + (k * total) // altered for k in range(altered)}
        self.documents_missing = {1 + (k * total) // missing + 1 for k in range(missing)} - self.documents_altered

    def _document(self, kind: str, subject: str, subject_id: int, title: str, template: str) -> int:
        did = len(self.documents) + 1
        self.documents.append({"id": did, "kind": kind, "subject": subject, "subject_id": subject_id,
                               "title": title, "template": template, "code": f"B{did:05d}-{did * 7919 % 99991:05d}"})
        return did

    # -- what the check must find --

    def _plan_expected(self) -> None:
        seg = self.by_name
        ids: dict[str, set[int]] = {}
        ids["data_left_office"] = {i for name in ("gone_not_sanitized", "gone_wipe_not_validated", "gone_wipe_not_fit",
                                                  "gone_one_medium_left", "gone_no_media_unconfirmed")
                                   for i in seg[name].ids}
        ids["transfer_not_covered"] = set(self.not_covered)
        ids["durability_breach"] = set(seg["durability_transfer"].ids) | set(seg["durability_liquidation"].ids)
        ids["loan_without_agreement"] = {g.id for g in self.loans if g.segment == "on_loan_no_agreement"}
        ids["loan_overdue"] = {g.id for g in self.loans if g.segment == "on_loan_overdue"}
        ids["fault_open_too_long"] = set(self.faults_open_long)
        # Disk removals take the id of their medium.
        held_long = seg["retired_disk_held_long"]
        ids["disk_not_destroyed"] = {m[0] for i in held_long.ids for m in self.media(i, self.kind(i, held_long))}
        ids["document_altered"] = self.documents_altered | self.documents_missing
        ids["past_expected_life"] = set(seg["in_use_past_life"].ids) | set(seg["on_loan_past_life"].ids)
        self.expected_ids = ids
        self.expected = {kind: len(ids[kind]) for kind in GAP_KINDS}


# -- writing it --------------------------------------------------------------------------------------------


class Loader:
    """Writes rows fast: COPY on PostgreSQL, INSERTs of many rows on SQLite, inside one transaction a table.

    A column the caller leaves out takes the model field's default, computed once (NOT NULL columns have no
    default in the database: Django fills them in Python).
    """

    def __init__(self, plan: Plan, media_root: Path) -> None:
        from django.db import connection

        self.connection = connection
        self.vendor = connection.vendor
        self.plan = plan
        self.media_root = media_root
        self.counts: dict[str, int] = {}
        self.timings: list[tuple[str, float]] = []
        self.explicit_ids: list[str] = []

    # values as the driver wants them
    def at(self, day: date, hour: int = 9) -> datetime:
        """A moment on `day`, in UTC; naive for SQLite, which Django stores as naive UTC text."""
        moment = datetime(day.year, day.month, day.day, hour, tzinfo=UTC)
        return moment.replace(tzinfo=None) if self.vendor == "sqlite" else moment

    def _default(self, field) -> Any:
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            return self.plan.now if self.vendor != "sqlite" else self.plan.now.replace(tzinfo=None)
        if field.has_default():
            value = field.get_default()
            if field.get_internal_type() == "JSONField":
                return json.dumps(value)
            if isinstance(value, datetime):
                return value.astimezone(UTC).replace(tzinfo=None) if self.vendor == "sqlite" else value
            return value
        if field.null:
            return None
        if field.empty_strings_allowed:
            return ""
        raise ValueError(f"{field.model.__name__}.{field.name} needs a value")

    def write(self, model, columns: Iterable[str], rows: Iterable[tuple]) -> int:
        """Insert `rows` (tuples in the order of `columns`, attnames) into `model`'s table; returns how many."""
        from django.db import transaction

        columns = list(columns)
        fields = [f for f in model._meta.concrete_fields if f.attname not in columns and not f.primary_key]
        tail = tuple(self._default(f) for f in fields)
        names = columns + [f.attname for f in fields]
        by_attname = {f.attname: f.column for f in model._meta.concrete_fields}
        quote = self.connection.ops.quote_name
        table = quote(model._meta.db_table)
        cols = ", ".join(quote(by_attname[name]) for name in names)
        if "id" in columns and model._meta.db_table not in self.explicit_ids:
            self.explicit_ids.append(model._meta.db_table)
        count = 0
        started = time.perf_counter()
        with transaction.atomic():
            if self.vendor == "postgresql":
                with self.connection.cursor() as cursor, cursor.cursor.copy(
                        f"COPY {table} ({cols}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row + tail)
                        count += 1
            else:
                width = len(names)
                per = max(1, min(500, 32_000 // width))
                marks = "(" + ", ".join("?" * width) + ")"
                full = f"INSERT INTO {table} ({cols}) VALUES " + ", ".join([marks] * per)
                self.connection.ensure_connection()
                cursor = self.connection.connection.cursor()
                batch: list = []
                try:
                    for row in rows:
                        batch.extend(row)
                        batch.extend(tail)
                        count += 1
                        if len(batch) == per * width:
                            cursor.execute(full, batch)
                            batch = []
                    if batch:
                        k = len(batch) // width
                        cursor.execute(f"INSERT INTO {table} ({cols}) VALUES " + ", ".join([marks] * k), batch)
                finally:
                    cursor.close()
        self.counts[model._meta.db_table] = self.counts.get(model._meta.db_table, 0) + count
        elapsed = time.perf_counter() - started
        self.timings.append((model._meta.db_table, elapsed))
        print(f"  {model._meta.db_table}: {count:,} rows in {elapsed:.1f} s", file=sys.stderr, flush=True)
        return count

    def execute(self, label: str, sql: str, params: list | tuple = ()) -> int:
        from django.db import transaction

        started = time.perf_counter()
        with transaction.atomic(), self.connection.cursor() as cursor:
            cursor.execute(sql, params)
            count = cursor.rowcount
        self.timings.append((label, time.perf_counter() - started))
        return count

    @contextmanager
    def bare(self, table: str) -> Iterator[None]:
        """On PostgreSQL, load `table` without its secondary indexes and foreign keys, then rebuild them from
        their own definitions (re-adding a foreign key checks every row at once): a few times faster than
        maintaining them row by row. Elsewhere, nothing."""
        if self.vendor != "postgresql":
            yield
            return
        with self.connection.cursor() as cursor:
            cursor.execute("SELECT conname, pg_get_constraintdef(oid), contype FROM pg_constraint "
                           "WHERE conrelid = %s::regclass AND contype IN ('f', 'u') ORDER BY contype DESC", [table])
            constraints = cursor.fetchall()
            cursor.execute("SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i "
                           "WHERE i.indrelid = %s::regclass AND NOT i.indisprimary AND NOT EXISTS ("
                           "SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid AND c.conrelid = i.indrelid)",
                           [table])
            indexes = cursor.fetchall()
            for name, _definition, _kind in constraints:
                cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
            for name, _definition in indexes:
                cursor.execute(f"DROP INDEX {name}")
        yield
        started = time.perf_counter()
        with self.connection.cursor() as cursor:
            for _name, definition in indexes:
                cursor.execute(definition)
            for name, definition, _kind in reversed(constraints):  # unique constraints first, then foreign keys
                cursor.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
        self.timings.append((f"indexes of {table}", time.perf_counter() - started))
        print(f"  {table}: {len(indexes)} indexes, {len(constraints)} constraints rebuilt in "
              f"{time.perf_counter() - started:.1f} s", file=sys.stderr, flush=True)

    # -- the whole register --

    def load(self) -> None:
        from django.contrib.auth import get_user_model
        from django.contrib.contenttypes.models import ContentType

        from donations.models import Liquidation, Transfer
        from loans.models import Loan

        User = get_user_model()
        self.users = {
            "it": User.objects.create_user("bench-it", first_name="Jan", last_name="Nowak", is_staff=True).pk,
            "validator": User.objects.create_user("bench-validator", first_name="Ewa", last_name="Lis",
                                                  is_staff=True).pk,
            "councillor": User.objects.create_user("bench-radny", first_name="Piotr", last_name="Zieliński").pk,
        }
        self.content_types = {"loan": ContentType.objects.get_for_model(Loan).pk,
                              "transfer": ContentType.objects.get_for_model(Transfer).pk,
                              "liquidation": ContentType.objects.get_for_model(Liquidation).pk}
        self.load_suppliers()
        with self.bare("assets_device"):
            self.load_devices()
        with self.bare("assets_deviceevent"):
            self.load_events()
        with self.bare("assets_storagemedium"):
            self.load_media()
        with self.bare("wipe_sanitization"):
            self.load_wipes()
        with self.bare("loans_loanitem"):
            self.load_projects_and_loans()
        self.load_faults()
        self.load_documents()
        self.load_orders_transfers_liquidations()
        self.reset_sequences()

    def load_suppliers(self) -> None:
        from assets.models import Contract, Supplier

        p = self.plan
        self.write(Supplier, ["id", "name", "nip", "address"],
                   ((k, f"Dostawca {k} Sp. z o.o.", f"{5_000_000_000 + k * 7919:010d}", "ul. Zagnańska 61, Kielce")
                    for k in range(1, p.suppliers + 1)))
        self.write(Contract, ["id", "number", "signed_on", "supplier_id", "value", "funding_source"],
                   ((k + 1, f"ZP/{k + 1}/{(p.contracts_from + timedelta(days=k * p.contract_step)).year}",
                     p.contracts_from + timedelta(days=k * p.contract_step), 1 + k % p.suppliers,
                     Decimal("1000000.00"), ("own_budget", "eu_funds", "mayors_reserve")[k % 3])
                    for k in range(p.contracts)))

    def load_devices(self) -> None:
        from assets.models import Device

        p = self.plan
        at = self.at
        funding = ("own_budget", "eu_funds", "donation")
        expected_forecast: dict[int, list] = {}
        past_life = 0

        def rows() -> Iterator[tuple]:
            nonlocal past_life
            for s in p.segments:
                project_device = s.age in ("a", "b")
                retirement = "end_of_life" if s.status in END_OF_LIFE_PATH and not project_device else ""
                for i in s.ids:
                    kind = s.kinds[i % len(s.kinds)]
                    life, purchased = p.device_dates(i, s)
                    manufacturer, model = MODELS[kind][(i // 7) % 3]
                    low, span = PRICES[kind]
                    cents = low + (i * 3719) % span
                    price = Decimal(cents).scaleb(-2)
                    if project_device or i % 3 == 0:
                        contract, source = None, "eu_funds" if project_device else funding[i % 9 // 3]
                    else:
                        contract = 1 + min(p.contracts - 1, (purchased - p.contracts_from).days // p.contract_step)
                        source = ""
                    changed = p.status_changed_day(i, s, purchased)
                    if s.status in ACTIVE:
                        ends = add_years(purchased, life)
                        if p.jan1 - timedelta(days=3) <= ends <= p.today + timedelta(days=3):
                            raise AssertionError(f"device {i} ({s.name}) ends its life on {ends}: an ambiguous day")
                        year = max(ends.year, p.today.year)
                        row = expected_forecast.setdefault(year, [0, 0, Decimal("0.00")])
                        row[0] += 1
                        row[1] += ends.year < p.today.year
                        row[2] += price
                        if s.status in IN_SERVICE and ends < p.today:
                            past_life += 1
                    yield (i, f"IT/{i:07d}", kind, manufacturer, model, f"SN{i:010d}", purchased, price, contract,
                           purchased + timedelta(days=3 * 365), source, LOCATIONS[i % len(LOCATIONS)], life,
                           s.status, at(changed, 10), retirement)

        self.write(Device, ["id", "inventory_number", "kind", "manufacturer", "model", "serial_number",
                            "purchase_date", "purchase_price", "contract_id", "warranty_ends_on", "funding_source",
                            "location", "expected_life_years", "status", "status_changed_at", "retirement_reason"],
                   rows())
        if past_life != p.expected["past_expected_life"]:
            raise AssertionError(f"past_expected_life: {past_life} devices, planned {p.expected['past_expected_life']}")
        p.expected_forecast = expected_forecast

    def load_events(self) -> None:
        """Several events per device, one INSERT ... SELECT per segment."""
        p = self.plan
        total = 0
        started = time.perf_counter()
        for s in p.segments:
            steps = p.steps(s)
            k = len(steps)
            step_sql = " UNION ALL ".join(
                f"SELECT {n} AS n, '{f}' AS f, '{t}' AS t, {x} AS x" for n, f, t, x in steps)
            detour = f"d.id %% {s.extra_every} = 0" if s.extra_every else "1 = 0"
            if self.vendor == "postgresql":
                when = (f"((d.purchase_date + ((%s::date - d.purchase_date) * s.n / {k})) + time '09:00') "
                        f"AT TIME ZONE 'UTC'")
                today = p.today
            else:
                when = (f"datetime(d.purchase_date, printf('%%+d days', CAST(julianday(%s) - julianday(d.purchase_date)"
                        f" AS INTEGER) * s.n / {k}), '+9 hours')")
                today = p.today.isoformat()
            sql = (f"INSERT INTO assets_deviceevent (device_id, occurred_at, from_status, to_status, reason, reference, "
                   f"request_id) SELECT d.id, {when}, s.f, s.t, '', '', '' FROM assets_device d "
                   f"JOIN ({step_sql}) s ON (s.x = 0 OR {detour}) WHERE d.id BETWEEN %s AND %s")
            self.execute(f"events of {s.name}", sql, [today, s.first, s.last])
            total += s.size * len(s.path)
            if s.extra_every:
                total += len(range(s.first + (-s.first) % s.extra_every, s.last + 1, s.extra_every)) * len(s.extras)
        with self.connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM assets_deviceevent")
            written = cursor.fetchone()[0]
        if written != total:
            raise AssertionError(f"{written:,} events written, {total:,} planned")
        self.counts["assets_deviceevent"] = total
        print(f"  assets_deviceevent: {total:,} rows in {time.perf_counter() - started:.1f} s", file=sys.stderr,
              flush=True)

    def load_media(self) -> None:
        from assets.models import StorageMedium
        from wipe.models import NoMediaConfirmation

        p = self.plan
        makers = ("Samsung", "WD", "Kingston", "Seagate")

        def rows() -> Iterator[tuple]:
            for s in p.segments:
                for i in s.ids:
                    for mid, kind, capacity in p.media(i, s.kinds[i % len(s.kinds)]):
                        taken = None
                        if s.name in REMOVALS:
                            taken = self.at(p.removed_on(s.name, i), 11)
                        yield (mid, i, kind, makers[mid % 4], f"M{mid:011d}", capacity, taken)

        self.write(StorageMedium, ["id", "device_id", "kind", "manufacturer", "serial_number", "capacity_gb",
                                   "removed_at"], rows())
        # Someone confirmed that each device without media on its way out has none, except where planted.
        confirmed = [s for s in p.segments
                     if s.status in (RETIRED, SANITIZED, TRANSFERRED, SCRAPPED) and s.name != "gone_no_media_unconfirmed"]
        self.write(NoMediaConfirmation, ["device_id", "confirmed_by_id", "confirmed_at", "how_checked"],
                   ((i, self.users["it"], self.at(p.today - timedelta(days=400 + i % 1000)),
                     "Obudowa otwarta, brak nośników.")
                    for s in confirmed for i in s.ids if not p.media(i, s.kinds[i % len(s.kinds)])))

    def load_wipes(self) -> None:
        """Validated wipes fit to leave where the devices left clean; drafts, rejected-fitness and none where
        planted; disk removals, destroyed or held."""
        from wipe.models import CustodyEntry, DiskRemoval, Sanitization

        p = self.plan
        fit = {"sanitized", "transferred", "scrapped", "transfer_order_expired", "transfer_order_wrong_kind",
               "transfer_not_in_annex", "transfer_approved_not_in_annex", "transfer_pending_not_covered",
               "durability_transfer", "durability_liquidation", "gone_one_medium_left"}
        technique = {"hdd": ("purge", "ata_secure_erase", False), "ssd": ("purge", "crypto_erase", True),
                     "nvme": ("purge", "nvme_sanitize", False), "emmc": ("purge", "crypto_erase", True)}
        it, validator = self.users["it"], self.users["validator"]

        def rows() -> Iterator[tuple]:
            for s in p.segments:
                if s.name not in fit and s.name not in ("gone_wipe_not_fit", "gone_wipe_not_validated", "retired"):
                    continue
                for i in s.ids:
                    media = p.media(i, s.kinds[i % len(s.kinds)])
                    if s.name == "gone_one_medium_left":
                        media = media[:1]
                    for mid, kind, _capacity in media:
                        day = p.today - timedelta(days=60 + i % 2000)
                        started, finished = self.at(day, 8), self.at(day, 12)
                        method, tech, encrypted = technique[kind]
                        if s.name in fit:
                            yield (mid, i, method, tech, encrypted, started, finished, "full", "passed",
                                   "leaves_office", validator, self.at(day, 14), "validated", True)
                        elif s.name == "gone_wipe_not_fit":
                            yield (mid, i, "clear", "overwrite", False, started, finished, "sample", "passed",
                                   "internal_reuse", validator, self.at(day, 14), "validated", False)
                        elif s.name == "gone_wipe_not_validated" or (s.name == "retired" and i % 3 == 0):
                            yield (mid, i, method, tech, encrypted, started, finished, "full", "passed",
                                   "leaves_office", None, None, "recorded", False)

        self.write(Sanitization, ["medium_id", "device_id", "method_class", "technique", "encryption_enabled",
                                  "started_at", "finished_at", "verification", "verification_result", "destination",
                                  "validated_by_id", "validated_at", "status", "fit_to_leave", "tool",
                                  "organization", "location", "performed_by_id"],
                   (row + ("nwipe 0.36", "Urząd Miasta", "pracownia BI", it) for row in rows()))

        removals = []
        for name, (status, _days, _spread) in REMOVALS.items():
            s = p.by_name[name]
            for i in s.ids:
                for mid, _kind, _capacity in p.media(i, s.kinds[i % len(s.kinds)]):
                    removals.append((mid, i, p.removed_on(name, i), status))

        def removal_rows() -> Iterator[tuple]:
            for mid, i, removed_on, status in removals:
                destroyed = status == "destroyed"
                yield (mid, mid, i, self.at(removed_on, 11), it, status, "sejf, pokój 12", "Jan Nowak (BI)",
                       removed_on + timedelta(days=30) if destroyed else None, "shred" if destroyed else "",
                       "Recykling Sp. z o.o." if destroyed else "", f"CZ/{mid}" if destroyed else "",
                       it if destroyed else None)

        self.write(DiskRemoval, ["id", "medium_id", "device_id", "removed_at", "removed_by_id", "status", "kept_at",
                                 "held_by", "destroyed_on", "destruction_method", "destruction_company",
                                 "certificate_number", "destruction_recorded_by_id"], removal_rows())
        self.write(CustodyEntry, ["removal_id", "at", "kept_at", "handed_to", "recorded_by_id"],
                   ((mid, self.at(removed_on, 11), "sejf, pokój 12", "Jan Nowak (BI)", it)
                    for mid, _i, removed_on, _status in removals))

    def load_projects_and_loans(self) -> None:
        from donations.models import Beneficiary, GrantProject, ProjectDevice
        from loans.models import Loan, LoanItem, Recipient

        p = self.plan
        self.write(Recipient, ["id", "kind", "name", "address"],
                   ((r["id"], r["kind"], r["name"], "ul. Szkolna 1, 25-001 Kielce") for r in p.recipients))
        self.write(GrantProject, ["id", "name", "programme", "agreement_number", "starts_on", "ends_on",
                                  "final_payment_on", "durability_years", "durability_ends_on"],
                   ((v["id"], f"e-Inclusion {code.upper()}", "POIG 8.3 Przeciwdziałanie wykluczeniu cyfrowemu",
                     f"POIG.08.03.00-26-{v['id']:03d}/{v['starts_on'].year}", v["starts_on"], v["ends_on"],
                     v["final_payment_on"], 5, v["durability_ends_on"]) for code, v in p.projects.items()))
        self.write(Beneficiary, ["id", "project_id", "code", "kind", "recipient_id", "eligibility_basis",
                                 "qualified_on"],
                   ((b["id"], b["project"], b["code"], "household", b["recipient"],
                     "Uczeń z rodziny objętej pomocą społeczną (decyzja MOPS).", b["qualified_on"])
                    for b in p.beneficiaries))
        starts = {v["id"]: v["starts_on"] + timedelta(days=120) for v in p.projects.values()}
        project_segments = {"project_on_loan": 2, "durability_transfer": 2, "durability_liquidation": 2,
                            "transferred_to_holder": 1}
        self.write(ProjectDevice, ["project_id", "device_id", "added_at"],
                   ((project, i, self.at(starts[project])) for name, project in project_segments.items()
                    for i in p.by_name[name].ids))
        self.write(Loan, ["id", "recipient_id", "purpose", "starts_on", "planned_end_on", "ended_on", "status",
                          "condition_at_handover"],
                   ((g.id, g.values["recipient"], g.values["purpose"], g.values["starts_on"],
                     g.values["planned_end_on"], g.values["ended_on"], g.values["status"], "Bez uszkodzeń.")
                    for g in p.loans))
        self.write(LoanItem, ["loan_id", "device_id", "is_open", "closed_on"],
                   ((g.id, i, g.values["open"], g.values["ended_on"]) for g in p.loans for i in g.device_ids))

    def load_faults(self) -> None:
        from faults.models import FaultEvent, FaultReport

        p = self.plan
        reporter, it = self.users["councillor"], self.users["it"]

        def rows() -> Iterator[tuple]:
            for fid, device, status, days in p.faults:
                reported = self.at(p.today - timedelta(days=days), 8)
                changed = self.at(p.today - timedelta(days=max(0, days - 5)), 8) if status != "new" else reported
                yield (fid, device, p.loan_of("on_loan", device), reporter, ("hardware", "software", "login")[fid % 3],
                       "Tablet nie ładuje się.", "tel. 600 100 200", status, changed, reported, reported)

        self.write(FaultReport, ["id", "device_id", "loan_id", "reporter_id", "category", "description", "contact",
                                 "status", "status_changed_at", "created_at", "updated_at"], rows())

        def events() -> Iterator[tuple]:
            for fid, _device, status, days in p.faults:
                yield (fid, self.at(p.today - timedelta(days=days), 8), reporter, "", "new")
                if status != "new":
                    yield (fid, self.at(p.today - timedelta(days=max(0, days - 5)), 8), it, "new", status)

        self.write(FaultEvent, ["fault_id", "occurred_at", "actor_id", "from_status", "to_status"], events())

    def load_documents(self) -> None:
        from core.models import StoredDocument

        p = self.plan
        body = random.Random(20260101).randbytes(DOCUMENT_BYTES)
        month = p.now.strftime("%Y/%m")
        folder = self.media_root / "documents" / month
        folder.mkdir(parents=True, exist_ok=True)

        def rows() -> Iterator[tuple]:
            for d in p.documents:
                content = b"%PDF-1.4\n% " + d["code"].encode() + b"\n" + body
                name = f"documents/{month}/{d['code']}.pdf"
                if d["id"] in p.documents_altered:
                    (self.media_root / name).write_bytes(content[:-1] + bytes([content[-1] ^ 0xFF]))
                elif d["id"] not in p.documents_missing:
                    (self.media_root / name).write_bytes(content)
                yield (d["id"], d["code"], d["kind"], d["title"], name, hashlib.sha256(content).hexdigest(),
                       len(content), d["template"], p.now if self.vendor != "sqlite" else p.now.replace(tzinfo=None),
                       self.content_types[d["subject"]], d["subject_id"])

        self.write(StoredDocument, ["id", "code", "kind", "title", "file", "sha256", "size", "template_version",
                                    "issued_at", "subject_type_id", "subject_id"], rows())

    def load_orders_transfers_liquidations(self) -> None:
        from donations.models import (
            Liquidation,
            LiquidationItem,
            MayoralOrder,
            OrderAnnexBeneficiary,
            OrderAnnexDevice,
            Transfer,
            TransferEvent,
            TransferItem,
        )

        p = self.plan
        it = self.users["it"]
        self.write(MayoralOrder, ["id", "number", "signed_on", "signatory", "title", "legal_basis", "kind",
                                  "in_force_from", "in_force_until", "project_id"],
                   ((o["id"], o["number"], o["from"], "Prezydent Miasta", f"Zarządzenie nr {o['number']} {o['title']}",
                     "art. 30 ust. 2 pkt 3 ustawy o samorządzie gminnym", o["kind"], o["from"], o["until"], o["project"])
                    for o in p.orders.values()))

        def annex() -> Iterator[tuple]:
            for key, names in p.annex.items():
                line = 0
                for name in names:
                    for i in p.by_name[name].ids:
                        line += 1
                        yield (p.orders[key]["id"], i, line)
            for key, devices in p.pending_annex.items():
                for line, i in enumerate(devices, start=1_000_000):
                    yield (p.orders[key]["id"], i, line)

        self.write(OrderAnnexDevice, ["order_id", "device_id", "line"], annex())
        self.write(OrderAnnexBeneficiary, ["order_id", "beneficiary_id", "line"],
                   ((p.orders["einclusion"]["id"], b["id"], k) for k, b in enumerate(p.beneficiaries, start=1)
                    if b["project"] == p.projects["a"]["id"]))

        def transfers() -> Iterator[tuple]:
            for g in p.transfers:
                v = g.values
                decided = v["status"] in ("approved", "rejected", "completed")
                yield (g.id, f"PN/{v['date'].year}/{g.id:06d}", p.orders[v["order"]]["id"], v["recipient"], v["date"],
                       v["status"], self.at(v["date"], 10) if decided else None, it if decided else None,
                       v.get("override", ""), self.at(v["date"], 12) if v["status"] == "completed" else None,
                       v.get("protocol"), it)

        self.write(Transfer, ["id", "number", "order_id", "recipient_id", "transfer_date", "status", "decided_at",
                              "decided_by_id", "override_reason", "completed_at", "protocol_id", "created_by_id"],
                   transfers())
        self.write(TransferItem, ["transfer_id", "device_id", "exception_applied"],
                   ((g.id, i, g.values["exception"]) for g in p.transfers for i in g.device_ids))
        kinds = {"draft": "created", "submitted": "submitted", "approved": "approved", "rejected": "rejected",
                 "completed": "completed", "cancelled": "cancelled"}
        self.write(TransferEvent, ["transfer_id", "kind", "occurred_at", "actor_id", "from_status", "to_status"],
                   ((g.id, kinds[g.values["status"]], self.at(g.values["date"], 12), it, "", g.values["status"])
                    for g in p.transfers))
        self.write(Liquidation, ["id", "number", "order_id", "handed_over_on", "collector_name", "collector_bdo",
                                 "kpo_number", "mass_kg", "protocol_id", "recorded_by_id"],
                   ((g.id, f"LK/{g.values['date'].year}/{g.id:05d}", p.orders["liquidation"]["id"], g.values["date"],
                     "EKO-Recykling Sp. z o.o.", "000123456", f"KPO/{g.id:06d}", Decimal("250.500"),
                     g.values["protocol"], it) for g in p.liquidations))
        self.write(LiquidationItem, ["liquidation_id", "device_id"],
                   ((g.id, i) for g in p.liquidations for i in g.device_ids))

    def reset_sequences(self) -> None:
        if self.vendor != "postgresql":
            return
        with self.connection.cursor() as cursor:
            for table in self.explicit_ids:
                cursor.execute(f"SELECT setval(pg_get_serial_sequence(%s, 'id'), (SELECT max(id) FROM {table}))",
                               [table])

    def analyze(self) -> float:
        started = time.perf_counter()
        with self.connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE" if self.vendor == "postgresql" else "ANALYZE")
        return time.perf_counter() - started


def plain_counts(plan: Plan, *, fault_open_days: int = 30, disk_destroy_days: int = 90) -> dict[str, int]:
    """The gaps of each kind, counted by plain queries written here from the rules (not reports.compliance):
    a check of the generator, and a second opinion when the compliance check disagrees with the plan."""
    import hashlib as _hashlib
    from collections import Counter

    from django.core.files.storage import default_storage
    from django.db.models import Count, Exists, F, OuterRef, Q

    from assets.models import Device, StorageMedium
    from core.models import StoredDocument
    from donations.models import LiquidationItem, OrderAnnexBeneficiary, OrderAnnexDevice, ProjectDevice, Transfer, \
        TransferItem
    from faults.models import FaultReport
    from loans.models import Loan
    from wipe.models import DiskRemoval, NoMediaConfirmation, Sanitization

    today = plan.today
    counts: dict[str, int] = {}
    cleared = Exists(Sanitization.objects.filter(medium=OuterRef("pk"), status="validated", fit_to_leave=True))
    uncleared = Exists(StorageMedium.objects.filter(device=OuterRef("pk"), removed_at__isnull=True)
                       .exclude(cleared))
    exception = Exists(TransferItem.objects.filter(device=OuterRef("pk"), exception_applied=True,
                                                   transfer__status="completed"))
    any_media = Exists(StorageMedium.objects.filter(device=OuterRef("pk")))
    confirmed = Exists(NoMediaConfirmation.objects.filter(device=OuterRef("pk")))
    counts["data_left_office"] = Device.objects.filter(status__in=[TRANSFERRED, SCRAPPED]).filter(
        (uncleared & ~exception) | (~any_media & ~confirmed)).count()

    in_annex = Exists(OrderAnnexDevice.objects.filter(order=OuterRef("transfer__order"), device=OuterRef("device")))
    beneficiary_listed = Exists(OrderAnnexBeneficiary.objects.filter(
        order=OuterRef("transfer__order"), beneficiary__recipient=OuterRef("transfer__recipient")))
    uncovered_item = Exists(TransferItem.objects.filter(transfer=OuterRef("pk")).exclude(in_annex)
                            .exclude(beneficiary_listed))
    counts["transfer_not_covered"] = Transfer.objects.filter(status__in=["approved", "completed"]).filter(
        Q(order__in_force_from__gt=F("transfer_date")) | Q(order__in_force_until__lt=F("transfer_date"))
        | ~Q(order__kind__in=["free_transfer", "donation"]) | uncovered_item).count()

    early_transfer = Exists(TransferItem.objects.filter(
        device=OuterRef("device"), transfer__status="completed",
        transfer__transfer_date__lt=OuterRef("project__durability_ends_on")))
    early_scrapping = Exists(LiquidationItem.objects.filter(
        device=OuterRef("device"), liquidation__handed_over_on__lt=OuterRef("project__durability_ends_on")))
    counts["durability_breach"] = ProjectDevice.objects.filter(early_transfer | early_scrapping).count()

    from django.contrib.contenttypes.models import ContentType

    agreement = Exists(StoredDocument.objects.filter(kind="loan_agreement", subject_id=OuterRef("pk"),
                                                     subject_type=ContentType.objects.get_for_model(Loan)))
    counts["loan_without_agreement"] = Loan.objects.exclude(agreement).count()
    counts["loan_overdue"] = Loan.objects.filter(status="open", planned_end_on__lt=today).count()

    from datetime import time as _time

    from django.utils import timezone

    midnight = timezone.make_aware(datetime.combine(today, _time()))
    counts["fault_open_too_long"] = FaultReport.objects.exclude(
        status__in=["resolved", "replaced", "rejected"]).filter(
        created_at__lt=midnight - timedelta(days=fault_open_days)).count()
    counts["disk_not_destroyed"] = DiskRemoval.objects.filter(
        status="held", removed_at__lt=midnight - timedelta(days=disk_destroy_days)).count()

    altered = 0
    for name, sha in StoredDocument.objects.values_list("file", "sha256").iterator(chunk_size=2000):
        try:
            with default_storage.open(name, "rb") as file:
                digest = _hashlib.sha256()
                for chunk in iter(lambda: file.read(1 << 16), b""):
                    digest.update(chunk)
        except FileNotFoundError:
            altered += 1
            continue
        altered += digest.hexdigest() != sha
    counts["document_altered"] = altered

    by_day = Counter()
    for purchased, life, number in (Device.objects.filter(status__in=[IN_USE, ON_LOAN]).order_by()
                                    .values_list("purchase_date", "expected_life_years")
                                    .annotate(n=Count("id"))):
        by_day[add_years(purchased, life) < today] += number
    counts["past_expected_life"] = by_day[True]
    return counts
