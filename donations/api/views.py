"""Thin viewsets over the donations app: reads through donations.selectors, every write and every move
through donations.services; each state change is its own POST action."""
from __future__ import annotations

from django.db.models import Exists, OuterRef, Prefetch
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from core.api.privacy import PersonalDataMixin
from core.api.serializers import JobSerializer, StoredDocumentSerializer
from core.api.views import job_accepted
from core.api.viewsets import RegisterViewSet
from core.exceptions import InvalidInput
from core.jobs import job_start
from core.models import StoredDocument
from core.permissions import RolePermissions, require_perm
from donations import privacy, selectors, services
from donations.api import serializers as s
from donations.documents import durability_report_issue
from donations.jobs import COMPLETE_TRANSFERS, PREPARE_TRANSFERS
from donations.filtersets import (
    BeneficiaryFilterSet,
    DonationOfferFilterSet,
    GrantProjectFilterSet,
    LiquidationFilterSet,
    MayoralOrderFilterSet,
    ObligationRecordFilterSet,
    ProjectObligationFilterSet,
    TransferFilterSet,
)
from donations.legal import failures, legal_check
from donations.models import (
    DonationOffer,
    Liquidation,
    LiquidationItem,
    ObligationRecord,
    ProjectObligation,
    TransferEvent,
)
from loans.choices import LoanPurpose, LoanStatus
from loans.models import Loan, LoanItem

UPLOADS = [JSONParser, MultiPartParser, FormParser]

CHANGE_PROJECT = require_perm("donations.change_grantproject")
LOG_OBLIGATION = require_perm("donations.log_obligation")
# Allocating a set lends it (loans app), but only a project's set to its beneficiary for the durability
# period: the project manager's change of the beneficiary, not the IT office's general loans.move_loan.
ALLOCATE = require_perm("donations.change_beneficiary")
READ_GAPS = require_perm("donations.view_obligationrecord")  # the gaps name beneficiaries
CHANGE_ORDER = require_perm("donations.change_mayoralorder")
PREPARE_TRANSFER = require_perm("donations.add_transfer")
MOVE_TRANSFER = require_perm("donations.move_transfer")
DECIDE_TRANSFER = require_perm("donations.decide_transfer")
# Completing a transfer makes the devices leave the register: the IT office's move of devices as well.
MOVE_DEVICE = require_perm("assets.move_device")
DECIDE_OFFER = require_perm("donations.decide_donationoffer")
RECORD_LIQUIDATION = require_perm("donations.record_liquidation")


class _ReadBack:
    """Answer a write with the record as the list shows it (annotations and prefetches included)."""

    def _read(self, instance, code: int = status.HTTP_200_OK) -> Response:
        instance = self.get_queryset().get(pk=instance.pk)
        return Response(self.get_serializer(instance).data, status=code)


class _RegisterViewSet(_ReadBack, RegisterViewSet):
    def perform_create(self, serializer) -> None:
        super().perform_create(serializer)
        serializer.instance = self.get_queryset().get(pk=serializer.instance.pk)

    def perform_update(self, serializer) -> None:
        super().perform_update(serializer)
        serializer.instance = self.get_queryset().get(pk=serializer.instance.pk)


# --- grant projects -------------------------------------------------------------------------------

class GrantProjectViewSet(_RegisterViewSet):
    """Grant projects: their devices, the months their obligations lack proof, the durability report."""

    queryset = selectors.project_list()
    serializer_class = s.ProjectSerializer
    filterset_class = GrantProjectFilterSet
    ordering_fields = ["starts_on", "name", "durability_ends_on"]
    create_service = services.project_create
    update_service = services.project_update
    update_kwarg = "project"

    @extend_schema(request=s.AddDevicesSerializer, responses=s.AddDevicesResultSerializer)
    @action(detail=True, methods=["post"], url_path="add-devices", permission_classes=[CHANGE_PROJECT])
    def add_devices(self, request, pk=None):
        project = self.get_object()
        payload = s.AddDevicesSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        rows = services.project_add_devices(project=project, by=request.user, **payload.validated_data)
        project = self.get_queryset().get(pk=project.pk)
        return Response({"added": len(rows),
                         "project": s.ProjectSerializer(project, context=self.get_serializer_context()).data})

    @extend_schema(parameters=[s.GapQuerySerializer], responses=s.GapSerializer(many=True))
    @action(detail=True, methods=["get"], url_path="obligation-gaps", filter_backends=[],
            permission_classes=[READ_GAPS])
    def obligation_gaps(self, request, pk=None):
        """Every month, up to today, in which an obligation has no proof for a beneficiary."""
        project = self.get_object()
        query = s.GapQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        obligation = None
        if "obligation" in query.validated_data:
            obligation = ProjectObligation.objects.filter(project=project, pk=query.validated_data["obligation"]).first()
            if obligation is None:
                raise InvalidInput(_("The project has no such obligation."), field="obligation")
        gaps = selectors.obligation_gaps(project=project, obligation=obligation,
                                         until=query.validated_data.get("until"))
        page = self.paginate_queryset(gaps)
        return self.get_paginated_response(s.GapSerializer(page, many=True).data)

    @extend_schema(request=s.DurabilityReportSerializer, responses={201: StoredDocumentSerializer})
    @action(detail=True, methods=["post"], url_path="durability-report", permission_classes=[LOG_OBLIGATION])
    def durability_report(self, request, pk=None):
        """Issue the durability report for the funding body as a verifiable PDF."""
        project = self.get_object()
        payload = s.DurabilityReportSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        document = durability_report_issue(project=project, by=request.user, on=payload.validated_data["on"])
        return Response(StoredDocumentSerializer(document, context=self.get_serializer_context()).data,
                        status=status.HTTP_201_CREATED)


# --- beneficiaries --------------------------------------------------------------------------------

def _beneficiaries():
    open_set = Loan.objects.filter(recipient_id=OuterRef("recipient_id"), status=LoanStatus.OPEN,
                                   purpose=LoanPurpose.GRANT_PROJECT)
    return selectors.beneficiary_list().annotate(holds_set=Exists(open_set)).order_by("project", "code")


def _anonymise_beneficiary(beneficiary, *, by):
    return privacy.beneficiary_anonymise(beneficiary=beneficiary, by=by)


class BeneficiaryViewSet(PersonalDataMixin, _ReadBack, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                         mixins.CreateModelMixin, mixins.UpdateModelMixin, viewsets.GenericViewSet):
    """Beneficiaries of grant projects; their name, address and contact live on their loan recipient.
    `allocate` lends them a set of the project for the durability period. The project manager downloads a
    beneficiary's personal data (`personal-data`) and anonymises it after the retention period (`anonymise`)."""

    personal_data_export = privacy.beneficiary_export
    personal_data_anonymise = _anonymise_beneficiary
    personal_data_name = "beneficiary"
    export_permission = "donations.export_personal_data_beneficiary"
    anonymise_permission = "donations.anonymise_beneficiary"

    queryset = _beneficiaries()
    serializer_class = s.BeneficiarySerializer
    filterset_class = BeneficiaryFilterSet
    ordering_fields = ["code", "created_at", "qualified_on"]
    parser_classes = UPLOADS

    def perform_create(self, serializer) -> None:
        data = serializer.service_kwargs()
        beneficiary = services.beneficiary_create(by=self.request.user, **data)
        serializer.instance = self.get_queryset().get(pk=beneficiary.pk)

    def perform_update(self, serializer) -> None:
        data = serializer.service_kwargs()
        if data.get("project") == serializer.instance.project:
            del data["project"]  # a full form repeats the project; moving to another is refused by the service
        beneficiary = services.beneficiary_update(beneficiary=serializer.instance, by=self.request.user, **data)
        serializer.instance = self.get_queryset().get(pk=beneficiary.pk)

    @extend_schema(request=s.AllocateSerializer, responses={201: s.AllocationSerializer})
    @action(detail=True, methods=["post"], permission_classes=[ALLOCATE])
    def allocate(self, request, pk=None):
        """Lend the beneficiary a set of its project (a kit, or devices) until the durability period ends."""
        beneficiary = self.get_object()
        payload = s.AllocateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        loan = services.beneficiary_allocate(beneficiary=beneficiary, by=request.user, **payload.validated_data)
        loan = (Loan.objects.prefetch_related(
            Prefetch("items", queryset=LoanItem.objects.select_related("device").order_by("device__inventory_number")),
            Prefetch("documents", queryset=StoredDocument.objects.order_by("issued_at", "id"))).get(pk=loan.pk))
        return Response(s.AllocationSerializer(loan, context=self.get_serializer_context()).data,
                        status=status.HTTP_201_CREATED)


# --- obligations ----------------------------------------------------------------------------------

class ObligationViewSet(_ReadBack, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                        viewsets.GenericViewSet):
    """Obligations of the durability period, proven month by month for each beneficiary."""

    queryset = ProjectObligation.objects.select_related("project").order_by("project", "kind", "id")
    serializer_class = s.ObligationSerializer
    filterset_class = ProjectObligationFilterSet
    ordering_fields = ["starts_on", "ends_on", "kind"]
    parser_classes = UPLOADS

    def perform_create(self, serializer) -> None:
        obligation = services.obligation_create(by=self.request.user, **serializer.validated_data)
        serializer.instance = self.get_queryset().get(pk=obligation.pk)

    def _records(self):
        return ObligationRecord.objects.select_related("obligation", "beneficiary", "recorded_by")

    @extend_schema(request={"multipart/form-data": s.RecordSerializer, "application/json": s.RecordSerializer},
                   responses={201: s.ObligationRecordSerializer})
    @action(detail=True, methods=["post"], permission_classes=[LOG_OBLIGATION])
    def record(self, request, pk=None):
        """Prove the obligation for one beneficiary in one month (with the scan of the proof, optionally)."""
        obligation = self.get_object()
        payload = s.RecordSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        record = services.obligation_record(obligation=obligation, by=request.user, **payload.validated_data)
        return Response(s.ObligationRecordSerializer(self._records().get(pk=record.pk),
                                                     context=self.get_serializer_context()).data,
                        status=status.HTTP_201_CREATED)

    @extend_schema(request=s.RecordMonthSerializer, responses={201: s.RecordMonthResultSerializer})
    @action(detail=True, methods=["post"], url_path="record-month", permission_classes=[LOG_OBLIGATION])
    def record_month(self, request, pk=None):
        """Prove one month for many beneficiaries at once (one invoice for every household)."""
        obligation = self.get_object()
        payload = s.RecordMonthSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        rows = services.obligation_record_month(obligation=obligation, by=request.user, **payload.validated_data)
        records = self._records().filter(pk__in=[r.pk for r in rows]).order_by("beneficiary__code")
        return Response({"recorded": len(rows), "records": s.ObligationRecordSerializer(
            records, many=True, context=self.get_serializer_context()).data}, status=status.HTTP_201_CREATED)

    @extend_schema(parameters=[s.UntilQuerySerializer], responses=s.CoverageSerializer(many=True))
    @action(detail=True, methods=["get"], filter_backends=[], pagination_class=None)
    def coverage(self, request, pk=None):
        """Per month up to today: how many beneficiaries the obligation applies to and how many have proof."""
        obligation = self.get_object()
        query = s.UntilQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        rows = selectors.obligation_coverage(obligation, until=query.validated_data.get("until"))
        return Response(s.CoverageSerializer([{**row, "missing": row["expected"] - row["recorded"]} for row in rows],
                                             many=True).data)


class ObligationRecordViewSet(viewsets.ReadOnlyModelViewSet):
    """The proofs of obligations, month by month; written only through the obligations' actions."""

    queryset = ObligationRecord.objects.select_related("obligation", "beneficiary", "recorded_by")
    serializer_class = s.ObligationRecordSerializer
    filterset_class = ObligationRecordFilterSet
    ordering_fields = ["month", "recorded_at"]


# --- mayoral orders -------------------------------------------------------------------------------

class MayoralOrderViewSet(_RegisterViewSet):
    """Mayor's orders with their annexes; the scan's SHA-256 is kept. The detail shows the annex."""

    queryset = selectors.order_list()
    serializer_class = s.OrderSerializer
    filterset_class = MayoralOrderFilterSet
    parser_classes = UPLOADS
    ordering_fields = ["signed_on", "number", "in_force_from"]
    create_service = services.order_create
    update_service = services.order_update
    update_kwarg = "order"

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "with_annex": self.action != "list"}

    @extend_schema(request={"multipart/form-data": s.AnnexImportSerializer},
                   responses=s.AnnexImportResultSerializer)
    @action(detail=True, methods=["post"], url_path="annex-import", permission_classes=[CHANGE_ORDER])
    def annex_import(self, request, pk=None):
        """Add the devices and beneficiaries of a CSV or XLSX annex; any bad line refuses the whole file."""
        order = self.get_object()
        payload = s.AnnexImportSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        upload = payload.validated_data["file"]
        report = services.order_annex_import(order=order, content=upload.read(), filename=upload.name,
                                             by=request.user, dry_run=payload.validated_data["dry_run"])
        return Response({"dry_run": payload.validated_data["dry_run"], **report.as_dict()})

    @extend_schema(request=s.AnnexAddSerializer, responses=s.OrderSerializer)
    @action(detail=True, methods=["post"], url_path="annex-add", permission_classes=[CHANGE_ORDER])
    def annex_add(self, request, pk=None):
        order = self.get_object()
        payload = s.AnnexAddSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        return self._read(services.order_annex_add(order=order, by=request.user, **payload.validated_data))


# --- transfers ------------------------------------------------------------------------------------

class TransferViewSet(_ReadBack, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Free transfers of ownership under an order. POST prepares a draft, PATCH changes it while a draft;
    each later move is its own POST action, listed per transfer in `allowed_moves`; `check` shows the
    legal check as it stands now, item by item."""

    queryset = selectors.transfer_list().prefetch_related(
        Prefetch("events", queryset=TransferEvent.objects.select_related("actor", "document").order_by("occurred_at",
                                                                                                       "id")))
    serializer_class = s.TransferSerializer
    filterset_class = TransferFilterSet
    ordering_fields = ["transfer_date", "number", "created_at"]

    @extend_schema(request=s.TransferCreateSerializer, responses={201: s.TransferSerializer})
    def create(self, request, *args, **kwargs):
        payload = s.TransferCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        transfer = services.transfer_create(by=request.user, **payload.validated_data)
        return self._read(transfer, status.HTTP_201_CREATED)

    @extend_schema(request=s.TransferUpdateSerializer, responses=s.TransferSerializer)
    def partial_update(self, request, *args, **kwargs):
        transfer = self.get_object()
        payload = s.TransferUpdateSerializer(data=request.data, partial=True)
        payload.is_valid(raise_exception=True)
        return self._read(services.transfer_update(transfer=transfer, by=request.user, **payload.validated_data))

    @extend_schema(request=s.TransferUpdateSerializer, responses=s.TransferSerializer)
    def update(self, request, *args, **kwargs):
        return self.partial_update(request, *args, **kwargs)

    def _move(self, request, service, payload_serializer=None) -> Response:
        transfer = self.get_object()
        data = {}
        if payload_serializer is not None:
            payload = payload_serializer(data=request.data)
            payload.is_valid(raise_exception=True)
            data = payload.validated_data
        return self._read(service(transfer=transfer, by=request.user, **data))

    @extend_schema(responses=s.TransferCheckSerializer)
    @action(detail=True, methods=["get"], filter_backends=[])
    def check(self, request, pk=None):
        """The legal check as it stands now, item by item (nothing is written)."""
        results = legal_check(self.get_object())
        failed = failures(results)
        return Response(s.TransferCheckSerializer({
            "passed": not failed, "overridable": all(r.overridable for r in failed),
            "failed": sorted({r.check for r in failed}), "checks": [r.as_dict() for r in results]}).data)

    @extend_schema(request=None, responses=s.TransferSerializer)
    @action(detail=True, methods=["post"], permission_classes=[MOVE_TRANSFER])
    def submit(self, request, pk=None):
        return self._move(request, services.transfer_submit)

    @extend_schema(request=s.ApproveSerializer, responses=s.TransferSerializer)
    @action(detail=True, methods=["post"], permission_classes=[DECIDE_TRANSFER])
    def approve(self, request, pk=None):
        """Approve when every check passes; with `override_reason`, a lawyer may approve despite the checks
        that are matters of legal judgement (never data leaving the office, never a device not there)."""
        return self._move(request, services.transfer_approve, s.ApproveSerializer)

    @extend_schema(request=s.ReasonSerializer, responses=s.TransferSerializer)
    @action(detail=True, methods=["post"], permission_classes=[DECIDE_TRANSFER])
    def reject(self, request, pk=None):
        return self._move(request, services.transfer_reject, s.ReasonSerializer)

    @extend_schema(request=None, responses=s.TransferSerializer)
    @action(detail=True, methods=["post"], permission_classes=[MOVE_TRANSFER, MOVE_DEVICE])
    def complete(self, request, pk=None):
        """Hand the devices over: the check runs again, the protocol is issued, the devices leave the register."""
        return self._move(request, services.transfer_complete)

    @extend_schema(request=s.ReasonSerializer, responses=s.TransferSerializer)
    @action(detail=True, methods=["post"], permission_classes=[MOVE_TRANSFER])
    def cancel(self, request, pk=None):
        return self._move(request, services.transfer_cancel, s.ReasonSerializer)

    @extend_schema(request=s.CompleteForProjectSerializer, responses={202: JobSerializer})
    @action(detail=False, methods=["post"], url_path="complete-for-project",
            permission_classes=[MOVE_TRANSFER, MOVE_DEVICE])
    def complete_for_project(self, request):
        """Complete every approved transfer of a project (or of an order) in a background job: one protocol per
        beneficiary; a transfer the check now refuses is skipped with the reason and the job goes on. 202 with
        the job; its progress is at the Location."""
        payload = s.CompleteForProjectSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        params = {name: data[name].pk for name in ("project", "order") if data.get(name)}
        return job_accepted(request, job_start(kind=COMPLETE_TRANSFERS, params=params, by=request.user))

    @extend_schema(request=s.ForProjectSerializer,
                   responses={200: s.ForProjectResultSerializer, 201: s.ForProjectResultSerializer, 202: JobSerializer})
    @action(detail=False, methods=["post"], url_path="for-project", permission_classes=[PREPARE_TRANSFER])
    def for_project(self, request):
        """One transfer per beneficiary of a project under one order, of the project's devices each holds;
        a beneficiary whose transfer is refused is reported with the reason and skipped."""
        payload = s.ForProjectSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = dict(payload.validated_data)
        if data.pop("background"):
            params = {"project": data["project"].pk, "order": data["order"].pk,
                      "transfer_date": data["transfer_date"].isoformat(), "kinds": data["kinds"], "submit": data["submit"]}
            return job_accepted(request, job_start(kind=PREPARE_TRANSFERS, params=params, by=request.user))
        result = services.transfers_for_project(by=request.user, **data)
        created = self.get_queryset().filter(pk__in=[t.pk for t in result.created]).order_by("number")
        body = s.ForProjectResultSerializer({"created": created, "skipped": result.skipped}).data
        return Response(body, status=status.HTTP_201_CREATED if result.created else status.HTTP_200_OK)


# --- donations from residents ---------------------------------------------------------------------

class DonationOfferViewSet(_RegisterViewSet):
    """Residents' offers of devices for people in need; changed only while offered, then accepted (the
    device enters the register, to be wiped and given away) or refused."""

    queryset = DonationOffer.objects.select_related("decided_by", "device").order_by("-offered_on", "-id")
    serializer_class = s.DonationOfferSerializer
    filterset_class = DonationOfferFilterSet
    parser_classes = UPLOADS
    ordering_fields = ["offered_on", "created_at"]
    create_service = services.donation_offer_create
    update_service = services.donation_offer_update
    update_kwarg = "offer"

    @extend_schema(request=s.AcceptSerializer, responses=s.DonationOfferSerializer)
    @action(detail=True, methods=["post"], permission_classes=[DECIDE_OFFER])
    def accept(self, request, pk=None):
        offer = self.get_object()
        payload = s.AcceptSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        return self._read(services.donation_accept(offer=offer, by=request.user, **payload.validated_data))

    @extend_schema(request=s.ReasonSerializer, responses=s.DonationOfferSerializer)
    @action(detail=True, methods=["post"], permission_classes=[DECIDE_OFFER])
    def refuse(self, request, pk=None):
        offer = self.get_object()
        payload = s.ReasonSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        return self._read(services.donation_refuse(offer=offer, by=request.user, **payload.validated_data))


# --- scrapping ------------------------------------------------------------------------------------

class LiquidationViewSet(_ReadBack, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                         viewsets.GenericViewSet):
    """Devices handed over as e-waste under a liquidation order; recording one issues its protocol."""

    queryset = Liquidation.objects.select_related("order", "protocol", "recorded_by").prefetch_related(
        Prefetch("items", queryset=LiquidationItem.objects.select_related("device").order_by("device__inventory_number")))
    serializer_class = s.LiquidationSerializer
    filterset_class = LiquidationFilterSet
    parser_classes = UPLOADS
    ordering_fields = ["handed_over_on", "number"]

    def get_permissions(self):
        if self.action == "create":
            return [RolePermissions(), RECORD_LIQUIDATION()]
        return super().get_permissions()

    def perform_create(self, serializer) -> None:
        liquidation = services.liquidation_record(by=self.request.user, **serializer.validated_data)
        serializer.instance = self.get_queryset().get(pk=liquidation.pk)
