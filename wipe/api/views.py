"""Thin viewsets over the wipe app: every write and every move through wipe.services."""
from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from assets.choices import DEVICE_GONE, DeviceStatus
from core.exceptions import GuardFailed
from core.permissions import require_perm
from wipe import selectors, services
from wipe.api import serializers as s
from wipe.filtersets import (DeviceToSanitizeFilterSet, DiskRemovalFilterSet, SanitizationFilterSet,
                             WipeEvidenceFilterSet, WipeSessionFilterSet)

VALIDATE = require_perm("wipe.validate_sanitization")
RECORD = require_perm("wipe.add_sanitization")
HANDLE_REMOVAL = require_perm("wipe.change_diskremoval")
RUN_SESSION = require_perm("wipe.change_wipesession")
MOVE_DEVICE = require_perm("assets.move_device")
CONFIRM_NO_MEDIA = require_perm("wipe.add_nomediaconfirmation")
UPLOADS = [MultiPartParser, FormParser, JSONParser]


class SanitizationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Sanitization records, one per wipe of one medium (NIST SP 800-88 Appendix G fields).

    POST records a wipe; PATCH edits it while it awaits validation. A validated record is evidence:
    PATCH and DELETE answer 409, and a correction is a new record (`correct`) that supersedes it.
    """

    queryset = selectors.sanitization_list()
    serializer_class = s.SanitizationSerializer
    filterset_class = SanitizationFilterSet
    ordering_fields = ["finished_at", "created_at", "validated_at"]

    def _read(self, record, code=status.HTTP_200_OK) -> Response:
        record = self.get_queryset().get(pk=record.pk)
        return Response(s.SanitizationSerializer(record, context=self.get_serializer_context()).data, status=code)

    @extend_schema(request=s.SanitizationRecordSerializer, responses={201: s.SanitizationSerializer})
    def create(self, request, *args, **kwargs):
        payload = s.SanitizationRecordSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        record = services.sanitization_record(by=request.user, **payload.validated_data)
        return self._read(record, status.HTTP_201_CREATED)

    @extend_schema(request=s.SanitizationUpdateSerializer, responses=s.SanitizationSerializer)
    def partial_update(self, request, *args, **kwargs):
        record = self.get_object()
        payload = s.SanitizationUpdateSerializer(record, data=request.data, partial=True)
        payload.is_valid(raise_exception=True)
        return self._read(services.sanitization_update(sanitization=record, by=request.user, **payload.validated_data))

    @extend_schema(request=s.SanitizationUpdateSerializer, responses=s.SanitizationSerializer)
    def update(self, request, *args, **kwargs):
        return self.partial_update(request, *args, **kwargs)

    def get_permissions(self):
        if self.action == "destroy":  # nobody may delete; the IT office is told why instead of a bare 403
            return [require_perm("wipe.change_sanitization")()]
        return super().get_permissions()

    @extend_schema(responses={409: None})
    def destroy(self, request, *args, **kwargs):
        self.get_object()
        raise GuardFailed(services.never_deleted_message())

    @extend_schema(request=s.ValidateSerializer, responses=s.SanitizationSerializer)
    @action(detail=True, methods=["post"], permission_classes=[VALIDATE])
    def validate(self, request, pk=None):
        record = self.get_object()
        payload = s.ValidateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        return self._read(services.sanitization_validate(sanitization=record, by=request.user,
                                                         **payload.validated_data))

    @extend_schema(request=s.RejectSerializer, responses=s.SanitizationSerializer)
    @action(detail=True, methods=["post"], permission_classes=[VALIDATE])
    def reject(self, request, pk=None):
        record = self.get_object()
        payload = s.RejectSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        return self._read(services.sanitization_reject(sanitization=record, by=request.user, **payload.validated_data))

    @extend_schema(request=s.CorrectionSerializer, responses={201: s.SanitizationSerializer})
    @action(detail=True, methods=["post"], permission_classes=[RECORD])
    def correct(self, request, pk=None):
        record = self.get_object()
        payload = s.CorrectionSerializer(data=request.data, partial=True)
        payload.is_valid(raise_exception=True)
        if "correction_reason" not in payload.validated_data:
            payload = s.CorrectionSerializer(data=request.data)  # the reason is required even on a partial form
            payload.is_valid(raise_exception=True)
        new = services.sanitization_correct(sanitization=record, by=request.user, **payload.validated_data)
        return self._read(new, status.HTTP_201_CREATED)


class DiskRemovalViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Media taken out of their devices: the custody log and the destruction with its certificate."""

    queryset = selectors.removal_list()
    serializer_class = s.DiskRemovalSerializer
    filterset_class = DiskRemovalFilterSet
    ordering_fields = ["removed_at", "destroyed_on"]
    parser_classes = UPLOADS

    def _read(self, removal, code=status.HTTP_200_OK) -> Response:
        removal = self.get_queryset().get(pk=removal.pk)
        return Response(s.DiskRemovalSerializer(removal, context=self.get_serializer_context()).data, status=code)

    @extend_schema(request=s.DiskRemoveSerializer, responses={201: s.DiskRemovalSerializer})
    def create(self, request, *args, **kwargs):
        payload = s.DiskRemoveSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        return self._read(services.disk_remove(by=request.user, **payload.validated_data), status.HTTP_201_CREATED)

    @extend_schema(request=s.CustodySerializer, responses=s.DiskRemovalSerializer)
    @action(detail=True, methods=["post"], permission_classes=[HANDLE_REMOVAL])
    def custody(self, request, pk=None):
        removal = self.get_object()
        payload = s.CustodySerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        services.custody_record(removal=removal, by=request.user, **payload.validated_data)
        return self._read(removal)

    @extend_schema(request={"multipart/form-data": s.DestructionSerializer}, responses=s.DiskRemovalSerializer)
    @action(detail=True, methods=["post"], url_path="record-destruction", permission_classes=[HANDLE_REMOVAL])
    def record_destruction(self, request, pk=None):
        removal = self.get_object()
        payload = s.DestructionSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        return self._read(services.disk_destroy(removal=removal, by=request.user, **payload.validated_data))


class WipeSessionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Wipe sessions: a cart of retired devices wiped together, closed by a second person who validates."""

    queryset = selectors.session_list()
    serializer_class = s.WipeSessionSerializer
    filterset_class = WipeSessionFilterSet
    ordering_fields = ["opened_at", "closed_at"]

    def _read(self, session, code=status.HTTP_200_OK) -> Response:
        session = self.get_queryset().get(pk=session.pk)
        return Response(s.WipeSessionSerializer(session, context=self.get_serializer_context()).data, status=code)

    @extend_schema(request=s.SessionOpenSerializer, responses={201: s.WipeSessionSerializer})
    def create(self, request, *args, **kwargs):
        payload = s.SessionOpenSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        return self._read(services.session_open(by=request.user, **payload.validated_data), status.HTTP_201_CREATED)

    @extend_schema(request=s.SessionResultSerializer, responses=s.WipeSessionSerializer)
    @action(detail=True, methods=["post"], url_path="record-result", permission_classes=[RUN_SESSION])
    def record_result(self, request, pk=None):
        session = self.get_object()
        payload = s.SessionResultSerializer(data=request.data, partial=True)
        payload.is_valid(raise_exception=True)
        for name in ("medium", "passed"):
            if name not in payload.validated_data:
                s.SessionResultSerializer(data=request.data).is_valid(raise_exception=True)
        services.session_record_result(session=session, by=request.user, **payload.validated_data)
        return self._read(session)

    @extend_schema(request=s.SessionCloseSerializer, responses=s.SessionCloseResultSerializer)
    @action(detail=True, methods=["post"], permission_classes=[VALIDATE])
    def close(self, request, pk=None):
        session = self.get_object()
        payload = s.SessionCloseSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        result = services.session_close(session=session, by=request.user, **payload.validated_data)
        session = self.get_queryset().get(pk=session.pk)
        return Response({
            "session": s.WipeSessionSerializer(session, context=self.get_serializer_context()).data,
            "passed": [d.inventory_number for d in result.passed],
            "failed": [{"device": d.pk, "inventory_number": d.inventory_number, "reason": reason}
                       for d, reason in result.failed],
        })

    @extend_schema(request=s.SessionRetrySerializer, responses={201: s.WipeSessionSerializer})
    @action(detail=True, methods=["post"], permission_classes=[RUN_SESSION])
    def retry(self, request, pk=None):
        session = self.get_object()
        payload = s.SessionRetrySerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        new = services.session_retry(session=session, by=request.user, **payload.validated_data)
        return self._read(new, status.HTTP_201_CREATED)


class WipeEvidenceViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Reports of nwipe/ShredOS (log or JSON): POST one to import it, with `dry_run` to preview first."""

    queryset = selectors.evidence_list()
    serializer_class = s.WipeEvidenceSerializer
    filterset_class = WipeEvidenceFilterSet
    ordering_fields = ["uploaded_at"]
    parser_classes = UPLOADS

    @extend_schema(request={"multipart/form-data": s.EvidenceImportSerializer},
                   responses={200: s.ImportPreviewSerializer, 201: s.ImportPreviewSerializer})
    def create(self, request, *args, **kwargs):
        payload = s.EvidenceImportSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        evidence, plan = services.evidence_import(by=request.user, **payload.validated_data)
        body = {"dry_run": evidence is None, "report": plan.as_report(),
                "evidence": s.WipeEvidenceSerializer(evidence).data if evidence else None}
        return Response(body, status=status.HTTP_200_OK if evidence is None else status.HTTP_201_CREATED)


class DeviceToSanitizeViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Retired devices on their way out, with what each still needs; `sanitize` is the gate.

    `confirm-no-media` also reaches a device that left the office (transferred or scrapped, not listed
    here): the written answer of its recipient or collector that it holds no medium, recorded late.
    """

    queryset = selectors.devices_to_sanitize()
    serializer_class = s.DeviceToSanitizeSerializer
    filterset_class = DeviceToSanitizeFilterSet
    ordering_fields = ["inventory_number", "status_changed_at"]

    def get_queryset(self):
        if self.action == "confirm_no_media":  # the service refuses a lost device, saying why
            return selectors.devices_to_sanitize(statuses=[DeviceStatus.RETIRED, *DEVICE_GONE])
        return super().get_queryset()

    @extend_schema(request=s.SanitizeSerializer, responses=s.DeviceToSanitizeSerializer)
    @action(detail=True, methods=["post"], permission_classes=[MOVE_DEVICE])
    def sanitize(self, request, pk=None):
        device = self.get_object()
        payload = s.SanitizeSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        device = services.device_sanitize(device=device, by=request.user, **payload.validated_data)
        return Response({"id": device.pk, "inventory_number": device.inventory_number, "status": device.status,
                         "certificate": s.WipeDocumentSerializer(
                             device.events.select_related("document").first().document,
                             context=self.get_serializer_context()).data})

    @extend_schema(request=s.NoMediaSerializer, responses=s.DeviceToSanitizeSerializer)
    @action(detail=True, methods=["post"], url_path="confirm-no-media", permission_classes=[CONFIRM_NO_MEDIA])
    def confirm_no_media(self, request, pk=None):
        device = self.get_object()
        payload = s.NoMediaSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        services.no_media_confirm(device=device, by=request.user, **payload.validated_data)
        device = self.get_queryset().get(pk=device.pk)
        return Response(s.DeviceToSanitizeSerializer(device, context=self.get_serializer_context()).data)
