"""Serializers of loans: they shape and check input; loans.services decides and writes."""
from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from assets.api.serializers import MoveLinkSerializer
from assets.models import Device
from core.api.serializers import StoredDocumentSerializer
from loans.choices import AccessoryKind, SetupStep
from loans.models import CouncilTerm, Loan, LoanAccessory, LoanFinding, LoanItem, LoanSetupStep, Recipient
from loans.services import loan_allowed_moves


class RecipientSerializer(serializers.ModelSerializer):
    class Meta:
        model = Recipient
        fields = ["id", "kind", "name", "user", "address", "email", "phone", "notes", "created_at", "updated_at"]


class CouncilTermSerializer(serializers.ModelSerializer):
    class Meta:
        model = CouncilTerm
        fields = ["id", "council", "name", "starts_on", "ends_on", "created_at", "updated_at"]


class LoanItemSerializer(serializers.ModelSerializer):
    inventory_number = serializers.CharField(source="device.inventory_number", read_only=True)
    serial_number = serializers.CharField(source="device.serial_number", read_only=True)
    kind = serializers.CharField(source="device.kind", read_only=True)

    class Meta:
        model = LoanItem
        fields = ["device", "inventory_number", "serial_number", "kind", "is_open", "closed_on"]


class LoanAccessorySerializer(serializers.ModelSerializer):
    class Meta:
        model = LoanAccessory
        fields = ["id", "kind", "description", "quantity", "returned_quantity"]
        read_only_fields = ["id", "returned_quantity"]


class LoanSetupStepSerializer(serializers.ModelSerializer):
    done_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)

    class Meta:
        model = LoanSetupStep
        fields = ["step", "done_on", "done_by", "note"]


class LoanFindingSerializer(serializers.ModelSerializer):
    settled_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)

    class Meta:
        model = LoanFinding
        fields = ["id", "loan", "description", "status", "found_on", "settled_on", "settled_by", "settlement"]
        read_only_fields = fields


class LoanDocumentSerializer(StoredDocumentSerializer):
    """A document issued for the loan (agreement, handover and return protocols), with its links."""

    class Meta(StoredDocumentSerializer.Meta):
        fields = ["kind", "code", "title", "issued_at", "verify_url", "download_url"]
        read_only_fields = fields


class LoanSerializer(serializers.ModelSerializer):
    recipient_name = serializers.CharField(source="recipient.name", read_only=True)
    items = LoanItemSerializer(many=True, read_only=True)
    accessories = LoanAccessorySerializer(many=True, read_only=True)
    setup_steps = LoanSetupStepSerializer(many=True, read_only=True)
    findings = LoanFindingSerializer(many=True, read_only=True)
    documents = LoanDocumentSerializer(many=True, read_only=True)
    is_overdue = serializers.BooleanField(read_only=True)
    allowed_moves = serializers.SerializerMethodField()

    class Meta:
        model = Loan
        fields = ["id", "recipient", "recipient_name", "purpose", "council_term", "kit", "starts_on",
                  "planned_end_on", "ended_on", "status", "condition_at_handover", "condition_at_return", "notes",
                  "is_overdue", "items", "accessories", "setup_steps", "findings", "documents", "allowed_moves",
                  "created_at", "updated_at"]
        read_only_fields = fields

    @extend_schema_field(MoveLinkSerializer(many=True))
    def get_allowed_moves(self, obj: Loan) -> list[dict[str, str]]:
        return [{"action": action, "to_status": target} for action, target in loan_allowed_moves(obj)]


class AccessoryInputSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=AccessoryKind.choices)
    description = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)
    quantity = serializers.IntegerField(min_value=1, default=1)


class LoanStartSerializer(serializers.ModelSerializer):
    devices = serializers.PrimaryKeyRelatedField(many=True, queryset=Device.objects.all(), required=False)
    accessories = AccessoryInputSerializer(many=True, required=False)

    class Meta:
        model = Loan
        fields = ["recipient", "purpose", "council_term", "kit", "devices", "starts_on", "planned_end_on",
                  "condition_at_handover", "accessories", "notes"]
        extra_kwargs = {"planned_end_on": {"required": False}}


class ExtendSerializer(serializers.Serializer):
    planned_end_on = serializers.DateField()
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class ReturnedAccessorySerializer(serializers.Serializer):
    accessory = serializers.IntegerField()
    returned_quantity = serializers.IntegerField(min_value=0)


class ReturnSerializer(serializers.Serializer):
    condition = serializers.CharField()
    returned_on = serializers.DateField(required=False)
    accessories_returned = ReturnedAccessorySerializer(many=True, required=False, default=list)
    findings = serializers.ListField(child=serializers.CharField(), required=False, default=list)

    def validate_accessories_returned(self, value):
        return {row["accessory"]: row["returned_quantity"] for row in value}


class LostSerializer(serializers.Serializer):
    reference = serializers.CharField(max_length=200)
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class SetupStepInputSerializer(serializers.Serializer):
    step = serializers.ChoiceField(choices=SetupStep.choices)
    done_on = serializers.DateField()
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=255)


class SettleSerializer(serializers.Serializer):
    settlement = serializers.CharField()


class TermEndSerializer(serializers.Serializer):
    ends_on = serializers.DateField()
    reason = serializers.CharField(required=False, allow_blank=True, default="")
