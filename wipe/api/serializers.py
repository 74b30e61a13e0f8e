"""Serializers of the wipe app: they shape and check input; wipe.services decides and writes."""
from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from assets.models import Device, StorageMedium
from core.api.serializers import StoredDocumentSerializer
from wipe.choices import Destination, Verification
from wipe.models import (CustodyEntry, DeviceToSanitize, DiskRemoval, Sanitization, WipeEvidence, WipeSession,
                         WipeSessionDevice)
from wipe.selectors import prefetched_missing
from wipe.services import SANITIZATION_FIELDS


class WipeDocumentSerializer(StoredDocumentSerializer):
    class Meta(StoredDocumentSerializer.Meta):
        fields = ["kind", "code", "title", "issued_at", "verify_url", "download_url"]
        read_only_fields = fields


class SanitizationSerializer(serializers.ModelSerializer):
    device_inventory_number = serializers.CharField(source="device.inventory_number", read_only=True)
    medium_kind = serializers.CharField(source="medium.kind", read_only=True)
    medium_serial_number = serializers.CharField(source="medium.serial_number", read_only=True)
    performed_by_name = serializers.SerializerMethodField()
    validated_by_name = serializers.SerializerMethodField()
    superseded_by = serializers.SerializerMethodField()
    # Empty until the wipe is verified: the schema says so.
    verification_result = serializers.ChoiceField(
        choices=Sanitization._meta.get_field("verification_result").choices, allow_blank=True, read_only=True)

    class Meta:
        model = Sanitization
        fields = ["id", "status", "device", "device_inventory_number", "medium", "medium_kind", "medium_serial_number",
                  *sorted(SANITIZATION_FIELDS), "performed_by_name", "validated_by", "validated_by_name",
                  "validator_title", "validator_phone", "validated_at", "fit_to_leave", "supersedes",
                  "superseded_by", "correction_reason", "session", "evidence", "evidence_drive", "created_at",
                  "updated_at"]
        read_only_fields = fields

    def _name(self, user) -> str:
        return (user.get_full_name() or user.get_username()) if user else ""

    def get_performed_by_name(self, obj: Sanitization) -> str:
        return self._name(obj.performed_by)

    def get_validated_by_name(self, obj: Sanitization) -> str:
        return self._name(obj.validated_by)

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_superseded_by(self, obj: Sanitization) -> int | None:
        correction = getattr(obj, "superseded_by", None)
        return correction.pk if correction is not None and obj.status == "superseded" else None


class SanitizationFactsSerializer(serializers.ModelSerializer):
    """What a technician states about a wipe (the NIST certificate's fields)."""

    class Meta:
        model = Sanitization
        fields = sorted(SANITIZATION_FIELDS)
        extra_kwargs = {"organization": {"required": False}, "performed_by": {"required": False}}


class SanitizationRecordSerializer(SanitizationFactsSerializer):
    device = serializers.PrimaryKeyRelatedField(queryset=Device.objects.all(), required=False,
                                                help_text="The device the medium is in; refused if it is not.")

    class Meta(SanitizationFactsSerializer.Meta):
        fields = ["medium", "device", *sorted(SANITIZATION_FIELDS)]


class SanitizationUpdateSerializer(SanitizationFactsSerializer):
    class Meta(SanitizationFactsSerializer.Meta):
        extra_kwargs = {name: {"required": False} for name in SANITIZATION_FIELDS}


class CorrectionSerializer(SanitizationUpdateSerializer):
    correction_reason = serializers.CharField()

    class Meta(SanitizationUpdateSerializer.Meta):
        fields = ["correction_reason", *sorted(SANITIZATION_FIELDS)]


class ValidateSerializer(serializers.Serializer):
    validator_title = serializers.CharField(required=False, allow_blank=True, default="", max_length=100)
    validator_phone = serializers.CharField(required=False, allow_blank=True, default="", max_length=40)


class RejectSerializer(serializers.Serializer):
    reason = serializers.CharField()


class CustodyEntrySerializer(serializers.ModelSerializer):
    recorded_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)

    class Meta:
        model = CustodyEntry
        fields = ["id", "at", "kept_at", "handed_to", "recorded_by", "notes"]
        read_only_fields = fields


class DiskRemovalSerializer(serializers.ModelSerializer):
    device_inventory_number = serializers.CharField(source="device.inventory_number", read_only=True)
    medium_serial_number = serializers.CharField(source="medium.serial_number", read_only=True)
    medium_kind = serializers.CharField(source="medium.kind", read_only=True)
    removed_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    custody = CustodyEntrySerializer(many=True, read_only=True)
    documents = WipeDocumentSerializer(many=True, read_only=True)
    has_certificate_scan = serializers.SerializerMethodField()
    # Empty until the disk is destroyed: the schema says so.
    destruction_method = serializers.ChoiceField(
        choices=DiskRemoval._meta.get_field("destruction_method").choices, allow_blank=True, read_only=True)

    class Meta:
        model = DiskRemoval
        fields = ["id", "status", "medium", "medium_kind", "medium_serial_number", "device", "device_inventory_number",
                  "removed_at", "removed_by", "kept_at", "held_by", "notes", "destroyed_on", "destruction_method",
                  "destruction_company", "certificate_number", "has_certificate_scan", "custody", "documents",
                  "created_at", "updated_at"]
        read_only_fields = fields

    def get_has_certificate_scan(self, obj: DiskRemoval) -> bool:
        return bool(obj.certificate_scan)


class DiskRemoveSerializer(serializers.Serializer):
    medium = serializers.PrimaryKeyRelatedField(queryset=StorageMedium.objects.all())
    device = serializers.PrimaryKeyRelatedField(queryset=Device.objects.all(), required=False)
    kept_at = serializers.CharField(max_length=200)
    held_by = serializers.CharField(max_length=200)
    removed_at = serializers.DateTimeField(required=False)
    notes = serializers.CharField(required=False, allow_blank=True, default="")


class CustodySerializer(serializers.Serializer):
    kept_at = serializers.CharField(max_length=200)
    handed_to = serializers.CharField(max_length=200)
    at = serializers.DateTimeField(required=False)
    notes = serializers.CharField(required=False, allow_blank=True, default="")


class DestructionSerializer(serializers.Serializer):
    destroyed_on = serializers.DateField()
    destruction_method = serializers.ChoiceField(choices=DiskRemoval._meta.get_field("destruction_method").choices)
    destruction_company = serializers.CharField(max_length=200)
    certificate_number = serializers.CharField(max_length=100)
    certificate_scan = serializers.FileField(required=False)


class WipeSessionDeviceSerializer(serializers.ModelSerializer):
    inventory_number = serializers.CharField(source="device.inventory_number", read_only=True)
    device_status = serializers.CharField(source="device.status", read_only=True)

    class Meta:
        model = WipeSessionDevice
        fields = ["device", "inventory_number", "device_status", "outcome", "failure_reason"]
        read_only_fields = fields


class WipeSessionSerializer(serializers.ModelSerializer):
    opened_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    closed_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    entries = WipeSessionDeviceSerializer(many=True, read_only=True)
    documents = WipeDocumentSerializer(many=True, read_only=True)
    devices_count = serializers.IntegerField(read_only=True)
    passed_count = serializers.IntegerField(read_only=True)
    failed_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = WipeSession
        fields = ["id", "reference", "status", "location", "tool", "tool_version", "opened_at", "opened_by",
                  "closed_at", "closed_by", "retry_of", "notes", "devices_count", "passed_count", "failed_count",
                  "entries", "documents", "created_at", "updated_at"]
        read_only_fields = fields


class SessionOpenSerializer(serializers.Serializer):
    devices = serializers.PrimaryKeyRelatedField(many=True, queryset=Device.objects.all())
    location = serializers.CharField(max_length=200)
    tool = serializers.CharField(required=False, allow_blank=True, default="", max_length=100)
    tool_version = serializers.CharField(required=False, allow_blank=True, default="", max_length=50)
    notes = serializers.CharField(required=False, allow_blank=True, default="")


class SessionResultSerializer(SanitizationUpdateSerializer):
    """One medium's result: a wipe that passed (its facts) or a failure (its reason)."""

    medium = serializers.PrimaryKeyRelatedField(queryset=StorageMedium.objects.all())
    passed = serializers.BooleanField()
    failure_reason = serializers.CharField(required=False, allow_blank=True, default="")

    class Meta(SanitizationUpdateSerializer.Meta):
        fields = ["medium", "passed", "failure_reason", *sorted(SANITIZATION_FIELDS)]


class SessionCloseSerializer(ValidateSerializer):
    pass


class SessionRetrySerializer(serializers.Serializer):
    location = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)


class SessionCloseResultSerializer(serializers.Serializer):
    session = WipeSessionSerializer()
    passed = serializers.ListField(child=serializers.CharField(), help_text="Inventory numbers now sanitized.")
    failed = serializers.ListField(child=serializers.DictField(), help_text="Devices to wipe again, with the reason.")


class WipeEvidenceSerializer(serializers.ModelSerializer):
    uploaded_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)

    class Meta:
        model = WipeEvidence
        fields = ["id", "original_name", "sha256", "size", "format", "tool_version", "session", "uploaded_at",
                  "uploaded_by", "report"]
        read_only_fields = fields


class EvidenceImportSerializer(serializers.Serializer):
    file = serializers.FileField(allow_empty_file=True)
    destination = serializers.ChoiceField(choices=Destination.choices, default=Destination.LEAVES_OFFICE)
    session = serializers.PrimaryKeyRelatedField(queryset=WipeSession.objects.all(), required=False, allow_null=True)
    location = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)
    verification = serializers.ChoiceField(
        choices=Verification.choices, required=False, allow_blank=True, default="",
        help_text="How nwipe verified, when the report does not say (its JSON report never does).")
    dry_run = serializers.BooleanField(default=False)


class ImportPreviewSerializer(serializers.Serializer):
    dry_run = serializers.BooleanField()
    evidence = WipeEvidenceSerializer(allow_null=True)
    report = serializers.DictField()


class MediumStateSerializer(serializers.ModelSerializer):
    cleared = serializers.BooleanField(read_only=True, help_text="Holds a validated record fit for leaving.")
    removal_status = serializers.SerializerMethodField()

    class Meta:
        model = StorageMedium
        fields = ["id", "kind", "serial_number", "capacity_gb", "removed_at", "cleared", "removal_status"]
        read_only_fields = fields

    def get_removal_status(self, obj: StorageMedium) -> str:
        removal = getattr(obj, "removal", None) if obj.removed_at else None
        return removal.status if removal else ""


class DeviceToSanitizeSerializer(serializers.ModelSerializer):
    media = MediumStateSerializer(many=True, read_only=True)
    no_media_confirmed = serializers.SerializerMethodField()
    ready = serializers.SerializerMethodField()
    media_missing = serializers.SerializerMethodField()

    class Meta:
        model = DeviceToSanitize
        fields = ["id", "inventory_number", "kind", "manufacturer", "model", "serial_number", "location", "status",
                  "media", "no_media_confirmed", "media_missing", "ready"]
        read_only_fields = fields

    def get_no_media_confirmed(self, obj) -> bool:
        return hasattr(obj, "no_media_confirmation")

    @extend_schema_field(serializers.ListField(child=serializers.IntegerField()))
    def get_media_missing(self, obj) -> list[int]:
        return [m.pk for m in prefetched_missing(obj) or []]

    def get_ready(self, obj) -> bool:
        return prefetched_missing(obj) == []


class SanitizeSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class NoMediaSerializer(serializers.Serializer):
    how_checked = serializers.CharField()
