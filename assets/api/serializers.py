"""Serializers of the register. They shape and check input; the services decide and write."""
from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from assets.choices import DeviceStatus, RetirementReason
from assets.models import Contract, Device, DeviceEvent, Kit, StorageMedium, Supplier
from assets.services import DEVICE_MOVES
from assets.validators import validate_nip
from core.api.serializers import ListedFieldsOnceMixin


class SupplierSerializer(serializers.ModelSerializer):
    # Accept the NIP as people write it (526-104-08-28); the service stores its 10 digits.
    nip = serializers.CharField(max_length=20, validators=[validate_nip])
    contract_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Supplier
        fields = ["id", "name", "nip", "regon", "address", "contact_person", "email", "phone", "notes",
                  "contract_count", "created_at", "updated_at"]


class ContractSerializer(serializers.ModelSerializer):
    supplier_name = serializers.CharField(source="supplier.name", read_only=True)
    device_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Contract
        fields = ["id", "number", "signed_on", "supplier", "supplier_name", "subject", "value", "funding_source",
                  "funding_details", "procurement_basis", "scan", "notes", "device_count", "created_at",
                  "updated_at"]
        # The service checks (supplier, number) with the rest, so that all errors come back together.
        validators: list = []


class StorageMediumSerializer(serializers.ModelSerializer):
    device_inventory_number = serializers.CharField(source="device.inventory_number", read_only=True)

    class Meta:
        model = StorageMedium
        fields = ["id", "device", "device_inventory_number", "kind", "manufacturer", "model", "serial_number",
                  "capacity_gb", "may_hold_personal_data", "notes", "removed_at", "created_at", "updated_at"]
        read_only_fields = ["removed_at"]
        validators: list = []


class NestedStorageMediumSerializer(ListedFieldsOnceMixin, serializers.ModelSerializer):
    class Meta:
        model = StorageMedium
        fields = ["id", "kind", "manufacturer", "model", "serial_number", "capacity_gb", "may_hold_personal_data",
                  "removed_at"]


class MoveLinkSerializer(serializers.Serializer):
    action = serializers.CharField()
    to_status = serializers.CharField()


class DeviceSerializer(ListedFieldsOnceMixin, serializers.ModelSerializer):
    contract_number = serializers.CharField(source="contract.number", read_only=True, default=None, allow_null=True)
    supplier_name = serializers.CharField(source="contract.supplier.name", read_only=True, default=None,
                                          allow_null=True)
    kit_code = serializers.CharField(source="kit.code", read_only=True, default=None, allow_null=True)
    storage_media = NestedStorageMediumSerializer(source="media", many=True, read_only=True)
    allowed_transitions = serializers.ListField(child=serializers.CharField(), read_only=True)
    allowed_moves = serializers.SerializerMethodField()
    # Empty until the device is retired: the schema says so.
    retirement_reason = serializers.ChoiceField(choices=RetirementReason.choices, allow_blank=True, read_only=True)

    class Meta:
        model = Device
        fields = ["id", "inventory_number", "kind", "manufacturer", "model", "serial_number", "purchase_date",
                  "purchase_price", "contract", "contract_number", "supplier_name", "warranty_ends_on", "funding_source",
                  "location",
                  "managed_by", "managing_vendor", "expected_life_years", "kit", "kit_code", "status",
                  "status_changed_at", "retirement_reason", "notes", "storage_media", "allowed_transitions",
                  "allowed_moves", "created_at", "updated_at"]
        read_only_fields = ["status", "status_changed_at", "retirement_reason"]
        validators: list = []

    @extend_schema_field(MoveLinkSerializer(many=True))
    def get_allowed_moves(self, obj: Device) -> list[dict[str, str]]:
        """The POST actions available now, from the same transition table the services check."""
        allowed = set(obj.allowed_transitions)
        return [{"action": name, "to_status": target} for name, (target, _service) in DEVICE_MOVES.items()
                if target in allowed]


class KitSerializer(serializers.ModelSerializer):
    devices = serializers.PrimaryKeyRelatedField(many=True, queryset=Device.objects.all())

    class Meta:
        model = Kit
        fields = ["id", "code", "name", "notes", "devices", "created_at", "updated_at"]


class DeviceEventSerializer(serializers.ModelSerializer):
    inventory_number = serializers.CharField(source="device.inventory_number", read_only=True)
    actor = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    document_code = serializers.CharField(source="document.code", read_only=True, default=None, allow_null=True)
    # Registration is the event with no status before it: the schema says so.
    from_status = serializers.ChoiceField(choices=DeviceStatus.choices, allow_blank=True, read_only=True)

    class Meta:
        model = DeviceEvent
        fields = ["id", "device", "inventory_number", "occurred_at", "actor", "from_status", "to_status", "reason",
                  "reference", "document_code", "request_id"]
        read_only_fields = fields


# --- move payloads -------------------------------------------------------------------------------

class MoveSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class RepairSerializer(serializers.Serializer):
    reason = serializers.CharField(help_text="The fault, as reported.")


class PutInUseSerializer(MoveSerializer):
    location = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)


class RetireSerializer(MoveSerializer):
    retirement_reason = serializers.ChoiceField(choices=RetirementReason.choices)


class ReportLostSerializer(MoveSerializer):
    reference = serializers.CharField(max_length=200, help_text="Police report or incident number.")
