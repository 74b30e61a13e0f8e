"""Fault reports in the API: the holder reports and writes; the IT office moves them along."""
from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from core.api.viewsets import HolderScopedMixin
from core.permissions import require_perm
from faults import selectors, services
from faults.api import serializers as s
from faults.filtersets import FaultFilterSet

HANDLE = require_perm("faults.handle_fault")


class ReporterOrOffice(IsAuthenticated):
    """A message on a fault: from its reporter or from the IT office. Others who may read the fault (the
    auditor) are refused here, before anything is parsed, as every other write they may not make."""

    def has_object_permission(self, request, view, obj) -> bool:
        return request.user.has_perm("faults.handle_fault") or obj.reporter_id == request.user.pk


class FaultViewSet(HolderScopedMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                   viewsets.GenericViewSet):
    """Fault reports. A holder (a councillor) sees and writes on their own; the IT office on all.

    Reporting is a POST to the list (multipart, with an optional `photo`); each move is its own POST.
    """

    queryset = selectors.fault_list()
    serializer_class = s.FaultSerializer
    filterset_class = FaultFilterSet
    ordering_fields = ["created_at", "status_changed_at"]
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    def _read(self, fault) -> dict:
        return s.FaultSerializer(self.get_queryset().get(pk=fault.pk), context=self.get_serializer_context()).data

    @extend_schema(request=s.FaultReportSerializer, responses={201: s.FaultSerializer})
    def create(self, request, *args, **kwargs):
        payload = s.FaultReportSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        fault = services.fault_report(by=request.user, **payload.validated_data)
        return Response(self._read(fault), status=status.HTTP_201_CREATED)

    def _move(self, request, payload_serializer, service) -> Response:
        payload = payload_serializer(data=request.data)
        fault = self.get_object()  # first: someone else's fault is a 404 whatever the payload
        payload.is_valid(raise_exception=True)
        fault = service(fault=fault, by=request.user, **payload.validated_data)
        return Response(self._read(fault))

    @extend_schema(request=s.ReplyInputSerializer, responses=s.FaultSerializer)
    @action(detail=True, methods=["post"], permission_classes=[HANDLE])
    def acknowledge(self, request, pk=None):
        return self._move(request, s.ReplyInputSerializer, services.fault_acknowledge)

    @extend_schema(request=s.StartWorkSerializer, responses=s.FaultSerializer)
    @action(detail=True, methods=["post"], url_path="start-work", permission_classes=[HANDLE])
    def start_work(self, request, pk=None):
        return self._move(request, s.StartWorkSerializer, services.fault_start_work)

    @extend_schema(request=s.RequiredReplySerializer, responses=s.FaultSerializer)
    @action(detail=True, methods=["post"], permission_classes=[HANDLE])
    def resolve(self, request, pk=None):
        return self._move(request, s.RequiredReplySerializer, services.fault_resolve)

    @extend_schema(request=s.RequiredReplySerializer, responses=s.FaultSerializer)
    @action(detail=True, methods=["post"], permission_classes=[HANDLE])
    def reject(self, request, pk=None):
        return self._move(request, s.RequiredReplySerializer, services.fault_reject)

    @extend_schema(request=s.ReplaceSerializer, responses=s.FaultSerializer)
    @action(detail=True, methods=["post"], permission_classes=[HANDLE])
    def replace(self, request, pk=None):
        return self._move(request, s.ReplaceSerializer, services.fault_replace)

    @extend_schema(request=s.MessageSerializer, responses={201: s.FaultSerializer})
    @action(detail=True, methods=["post"], permission_classes=[ReporterOrOffice])
    def reply(self, request, pk=None):
        """A message on the fault, from its reporter or from the IT office."""
        payload = s.MessageSerializer(data=request.data)
        fault = self.get_object()
        payload.is_valid(raise_exception=True)
        services.fault_reply(fault=fault, by=request.user, **payload.validated_data)
        return Response(self._read(fault), status=status.HTTP_201_CREATED)
