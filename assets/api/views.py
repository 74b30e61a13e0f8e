"""Thin viewsets over the register: filtering and paging here, every write through assets.services."""
from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from assets import selectors, services
from assets.api import serializers as s
from assets.documents import device_card_issue
from assets.filtersets import (
    ContractFilterSet,
    DeviceEventFilterSet,
    DeviceFilterSet,
    KitFilterSet,
    StorageMediumFilterSet,
    SupplierFilterSet,
)
from core.api.serializers import StoredDocumentSerializer
from core.api.viewsets import HolderScopedMixin, RegisterViewSet
from core.permissions import require_perm


class SupplierViewSet(RegisterViewSet):
    queryset = selectors.supplier_list()
    serializer_class = s.SupplierSerializer
    filterset_class = SupplierFilterSet
    ordering_fields = ["name", "created_at"]
    create_service = services.supplier_create
    update_service = services.supplier_update
    update_kwarg = "supplier"


class ContractViewSet(RegisterViewSet):
    queryset = selectors.contract_list()
    serializer_class = s.ContractSerializer
    filterset_class = ContractFilterSet
    parser_classes = [JSONParser, MultiPartParser, FormParser]
    ordering_fields = ["signed_on", "number", "value"]
    create_service = services.contract_create
    update_service = services.contract_update
    update_kwarg = "contract"


class StorageMediumViewSet(RegisterViewSet):
    queryset = selectors.storage_medium_list()
    serializer_class = s.StorageMediumSerializer
    filterset_class = StorageMediumFilterSet
    ordering_fields = ["capacity_gb", "created_at"]
    create_service = services.storage_medium_add
    update_service = services.storage_medium_update
    update_kwarg = "medium"


class KitViewSet(RegisterViewSet):
    queryset = selectors.kit_list()
    serializer_class = s.KitSerializer
    filterset_class = KitFilterSet
    ordering_fields = ["code", "name"]
    create_service = services.kit_create
    update_service = services.kit_update
    update_kwarg = "kit"


class DeviceViewSet(HolderScopedMixin, RegisterViewSet):
    """Devices; each lifecycle move is its own POST action, listed per device in `allowed_moves`.

    A borrower without the register role sees the devices they hold, and nothing else.
    """

    queryset = selectors.device_list()
    serializer_class = s.DeviceSerializer
    filterset_class = DeviceFilterSet
    ordering_fields = ["inventory_number", "purchase_date", "purchase_price", "status_changed_at"]
    create_service = services.device_register
    update_service = services.device_update
    update_kwarg = "device"

    def _move(self, request, payload_serializer, service) -> Response:
        payload = payload_serializer(data=request.data)
        device = self.get_object()  # first: someone else's device is a 404 whatever the payload
        payload.is_valid(raise_exception=True)
        service(device=device, by=request.user, **payload.validated_data)
        device = self.get_queryset().get(pk=device.pk)
        return Response(s.DeviceSerializer(device, context=self.get_serializer_context()).data)

    @extend_schema(request=s.PutInUseSerializer, responses=s.DeviceSerializer)
    @action(detail=True, methods=["post"], url_path="put-in-use",
            permission_classes=[require_perm("assets.move_device")])
    def put_in_use(self, request, pk=None):
        return self._move(request, s.PutInUseSerializer, services.device_put_in_use)

    @extend_schema(request=s.MoveSerializer, responses=s.DeviceSerializer)
    @action(detail=True, methods=["post"], url_path="return-to-stock",
            permission_classes=[require_perm("assets.move_device")])
    def return_to_stock(self, request, pk=None):
        return self._move(request, s.MoveSerializer, services.device_return_to_stock)

    @extend_schema(request=s.RepairSerializer, responses=s.DeviceSerializer)
    @action(detail=True, methods=["post"], url_path="send-to-repair",
            permission_classes=[require_perm("assets.move_device")])
    def send_to_repair(self, request, pk=None):
        return self._move(request, s.RepairSerializer, services.device_send_to_repair)

    @extend_schema(request=s.RetireSerializer, responses=s.DeviceSerializer)
    @action(detail=True, methods=["post"], permission_classes=[require_perm("assets.move_device")])
    def retire(self, request, pk=None):
        return self._move(request, s.RetireSerializer, services.device_retire)

    @extend_schema(request=s.ReportLostSerializer, responses=s.DeviceSerializer)
    @action(detail=True, methods=["post"], url_path="report-lost",
            permission_classes=[require_perm("assets.move_device")])
    def report_lost(self, request, pk=None):
        return self._move(request, s.ReportLostSerializer, services.device_report_lost)

    @extend_schema(request=None, responses={201: StoredDocumentSerializer})
    @action(detail=True, methods=["post"], url_path="record-card",
            permission_classes=[require_perm("assets.issue_device_card")])
    def record_card(self, request, pk=None):
        """Issue the device record card (karta urządzenia) as a verifiable PDF."""
        document = device_card_issue(device=self.get_object(), by=request.user)
        return Response(StoredDocumentSerializer(document, context=self.get_serializer_context()).data,
                        status=status.HTTP_201_CREATED)


class DeviceEventViewSet(viewsets.ReadOnlyModelViewSet):
    """Every step of every device's life; written only by the move services."""

    queryset = selectors.device_event_list()
    serializer_class = s.DeviceEventSerializer
    filterset_class = DeviceEventFilterSet
    ordering_fields = ["occurred_at"]
