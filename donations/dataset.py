"""The grant projects, orders, transfers and liquidations of the synthetic data set (assets.dataset).

Devices bought under EU-funded contracts belong to a grant project; households that borrow become the
projects' beneficiaries. Devices that end "transferred" are given, ten at a time, to schools under a
free-transfer order of their year that lists them in its annex, by a completed transfer with its
protocol (an issued-document row) and events; devices that end "scrapped" are handed to a collector by
a liquidation of their year, under a liquidation order whose annex lists them. Numbers follow the
services' pattern (PN/2021/0001, LIK/2021/0001), so that the services continue the series.
"""
from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta
from datetime import timezone as dt_timezone
from decimal import Decimal

from assets.choices import DeviceStatus, FundingSource
from assets.dataset import DatasetContext, DevicePlan
from core.choices import DocumentKind
from donations.choices import BeneficiaryKind, OrderKind, TransferEventKind, TransferStatus
from donations.models import (
    Beneficiary,
    GrantProject,
    Liquidation,
    LiquidationItem,
    MayoralOrder,
    OrderAnnexDevice,
    ProjectDevice,
    Transfer,
    TransferEvent,
    TransferItem,
    add_years,
)

UTC = dt_timezone.utc
TRANSFER_SIZE = 10
T = TransferStatus


class Contribution:
    def __init__(self, ctx: DatasetContext) -> None:
        self.ctx = ctx
        w = ctx.writer
        stamped = ["created_at", "updated_at"]
        self.projects_sink = w.sink(GrantProject, ["id", "name", "programme", "agreement_number", "starts_on",
                                                   "ends_on", "final_payment_on", "durability_years",
                                                   "durability_ends_on", "manager_id", *stamped],
                                    history=True, history_date_field="created_at")
        self.project_devices = w.sink(ProjectDevice, ["id", "project_id", "device_id", "added_at", "added_by_id"])
        self.beneficiaries = w.sink(Beneficiary, ["id", "project_id", "code", "kind", "recipient_id",
                                                  "eligibility_basis", "qualified_on", *stamped],
                                    history=True, history_date_field="created_at")
        self.orders = w.sink(MayoralOrder, ["id", "number", "signed_on", "signatory", "title", "legal_basis", "kind",
                                            "in_force_from", *stamped], history=True, history_date_field="created_at")
        self.annex = w.sink(OrderAnnexDevice, ["id", "order_id", "device_id", "line"])
        self.transfers = w.sink(Transfer, ["id", "number", "order_id", "recipient_id", "transfer_date", "status",
                                           "decided_at", "decided_by_id", "decision_reason", "completed_at",
                                           "protocol_id", "created_by_id", *stamped],
                                history=True, history_date_field="updated_at")
        self.transfer_items = w.sink(TransferItem, ["id", "transfer_id", "device_id", "exception_applied"])
        self.transfer_events = w.sink(TransferEvent, ["id", "transfer_id", "kind", "occurred_at", "actor_id",
                                                      "from_status", "to_status", "document_id"])
        self.liquidations = w.sink(Liquidation, ["id", "number", "order_id", "handed_over_on", "collector_name",
                                                 "collector_bdo", "kpo_number", "mass_kg", "protocol_id",
                                                 "recorded_by_id", *stamped],
                                   history=True, history_date_field="created_at")
        self.liquidation_items = w.sink(LiquidationItem, ["id", "liquidation_id", "device_id"])
        self.projects: list[int] = []
        self.transferred: dict[int, list[tuple[int, datetime]]] = defaultdict(list)
        self.scrapped: dict[int, list[tuple[int, datetime]]] = defaultdict(list)

    def prepare(self) -> None:
        ctx = self.ctx
        for n in range(max(1, ctx.devices // 50_000)):
            project_id = self.projects_sink.take_id()
            starts = date(2013 + n % 8, 3, 1)
            final = starts + timedelta(days=2 * 365)
            created = datetime.combine(starts, datetime.min.time(), UTC)
            self.projects_sink.add((project_id, f"Przeciwdziałanie wykluczeniu cyfrowemu — edycja {n + 1}",
                                    "POPC 3.1 / eInclusion", f"POPC.03.01.00-00-{project_id:04d}/{starts:%y}",
                                    starts, final - timedelta(days=30), final, 5, add_years(final, 5),
                                    ctx.manager_user_id, created, created))
            self.projects.append(project_id)
        for index, recipient_id in enumerate(ctx.shared.get("households", [])):
            project_id = self.projects[index % len(self.projects)]
            created = datetime(2013, 2, 1, 9, tzinfo=UTC)
            self.beneficiaries.add((self.beneficiaries.take_id(), project_id, f"EI/{project_id}/{index + 1:05d}",
                                    BeneficiaryKind.HOUSEHOLD, recipient_id,
                                    "uczeń z rodziny objętej pomocą społeczną (decyzja MOPS)", created.date(),
                                    created, created))

    def on_device(self, plan: DevicePlan) -> None:
        if plan.funding_source == FundingSource.EU_FUNDS:
            registered = plan.moves[0][1]
            self.project_devices.add((self.project_devices.take_id(),
                                      self.projects[plan.contract_id % len(self.projects)], plan.id, registered,
                                      self.ctx.manager_user_id))
        last_status, last_at = plan.moves[-1]
        if last_status == DeviceStatus.TRANSFERRED:
            self.transferred[last_at.year].append((plan.id, last_at))
        elif last_status == DeviceStatus.SCRAPPED:
            self.scrapped[last_at.year].append((plan.id, last_at))

    def _order(self, year: int, kind: str, number: str, title: str, device_ids: list[int]) -> int:
        order_id = self.orders.take_id()
        signed = date(year, 1, 2)
        created = datetime.combine(signed, datetime.min.time(), UTC)
        self.orders.add((order_id, number, signed, "Prezydent Miasta", title,
                         "art. 30 ust. 2 pkt 3 ustawy o samorządzie gminnym", kind, signed, created, created))
        for line, device_id in enumerate(device_ids, start=1):
            self.annex.add((self.annex.take_id(), order_id, device_id, line))
        return order_id

    def finish(self) -> None:
        ctx = self.ctx
        schools = ctx.shared.get("schools") or [None]
        actor, legal = ctx.it_user_id, ctx.validator_user_id
        for year, devices in sorted(self.transferred.items()):
            order_id = self._order(year, OrderKind.FREE_TRANSFER, f"{100 + year % 100}/T/{year}",
                                   f"w sprawie nieodpłatnego przekazania sprzętu komputerowego ({year})",
                                   [d for d, _ in devices])
            devices.sort(key=lambda item: item[1])
            for serial, start in enumerate(range(0, len(devices), TRANSFER_SIZE), start=1):
                chunk = devices[start:start + TRANSFER_SIZE]
                completed = max(at for _, at in chunk)
                created = min(at for _, at in chunk) - timedelta(days=7)
                transfer_id = self.transfers.take_id()
                protocol_id = ctx.document(kind=DocumentKind.TRANSFER_PROTOCOL,
                                           title=f"Protokół nieodpłatnego przekazania PN/{year}/{serial:04d}",
                                           subject=Transfer, subject_id=transfer_id, issued_at=completed)
                decided = created + timedelta(days=2)
                self.transfers.add((transfer_id, f"PN/{year}/{serial:04d}", order_id, schools[serial % len(schools)],
                                    completed.date(), T.COMPLETED, decided, legal, "zgodne z zarządzeniem", completed,
                                    protocol_id, actor, created, completed))
                for device_id, _at in chunk:
                    self.transfer_items.add((self.transfer_items.take_id(), transfer_id, device_id, False))
                for kind, at, who, before, after, document in (
                        (TransferEventKind.CREATED, created, actor, "", T.DRAFT, None),
                        (TransferEventKind.SUBMITTED, created + timedelta(days=1), actor, T.DRAFT, T.SUBMITTED, None),
                        (TransferEventKind.APPROVED, decided, legal, T.SUBMITTED, T.APPROVED, None),
                        (TransferEventKind.COMPLETED, completed, actor, T.APPROVED, T.COMPLETED, protocol_id)):
                    self.transfer_events.add((self.transfer_events.take_id(), transfer_id, kind, at, who, before,
                                              after, document))
        for year, devices in sorted(self.scrapped.items()):
            order_id = self._order(year, OrderKind.LIQUIDATION, f"{200 + year % 100}/L/{year}",
                                   f"w sprawie likwidacji zużytego sprzętu elektronicznego ({year})",
                                   [d for d, _ in devices])
            liquidation_id = self.liquidations.take_id()
            handed = max(at for _, at in devices)
            protocol_id = ctx.document(kind=DocumentKind.LIQUIDATION_PROTOCOL,
                                       title=f"Protokół likwidacji LIK/{year}/0001", subject=Liquidation,
                                       subject_id=liquidation_id, issued_at=handed)
            self.liquidations.add((liquidation_id, f"LIK/{year}/0001", order_id, handed.date(),
                                   "Elektro-Recykling sp. z o.o.", "000123456", f"KPO/{year}/{liquidation_id:06d}",
                                   Decimal(len(devices)) * Decimal("3.500"), protocol_id, actor, handed, handed))
            for device_id, _at in devices:
                self.liquidation_items.add((self.liquidation_items.take_id(), liquidation_id, device_id))
