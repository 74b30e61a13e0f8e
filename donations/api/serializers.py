"""Serializers of the donations app: they shape and check input; donations.services decides and writes.

One serializer per record serves its list, its detail and its form, so that each choice set of the
app appears in one schema component (drf-spectacular names the enums without collisions). Secondary
mentions of a state (an event's from/to, the legal check's names) are plain strings, as in
`allowed_moves` elsewhere.
"""
from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from assets.api.serializers import MoveLinkSerializer
from assets.choices import MediumKind
from assets.models import Device, Kit
from core import uploads
from core.api.serializers import StoredDocumentSerializer
from donations.choices import DONATION_TRANSITIONS, BeneficiaryKind, DonationStatus
from donations.models import (
    Beneficiary,
    DonationOffer,
    GrantProject,
    Liquidation,
    LiquidationItem,
    MayoralOrder,
    ObligationRecord,
    ProjectObligation,
    Transfer,
    TransferEvent,
    TransferItem,
)
from donations.services import transfer_allowed_moves
from loans.api.serializers import AccessoryInputSerializer
from loans.models import Recipient


def month_label(value: date) -> str:
    return value.strftime("%Y-%m")


@extend_schema_field({"type": "string", "example": "2021-06",
                      "description": "A month as YYYY-MM (a full date YYYY-MM-DD stands for its month)."})
class MonthField(serializers.Field):
    """A month as YYYY-MM (or any date of it, YYYY-MM-DD); the first day of the month inside."""

    default_error_messages = {"invalid": _("Give the month as YYYY-MM.")}

    def to_internal_value(self, data) -> date:
        match = re.fullmatch(r"(\d{4})-(\d{2})(?:-(\d{2}))?", str(data).strip())
        if not match:
            self.fail("invalid")
        try:
            return date(int(match[1]), int(match[2]), int(match[3] or 1)).replace(day=1)
        except ValueError:
            self.fail("invalid")

    def to_representation(self, value: date) -> str:
        return month_label(value)


class DonationDocumentSerializer(StoredDocumentSerializer):
    """A document issued here (transfer or liquidation protocol, durability report), with its links."""

    class Meta(StoredDocumentSerializer.Meta):
        fields = ["kind", "code", "title", "issued_at", "verify_url", "download_url"]
        read_only_fields = fields


# --- grant projects -------------------------------------------------------------------------------

class ProjectSerializer(serializers.ModelSerializer):
    manager_name = serializers.SerializerMethodField()
    devices_count = serializers.IntegerField(read_only=True)
    beneficiaries_count = serializers.IntegerField(read_only=True)
    durability_over = serializers.SerializerMethodField()

    class Meta:
        model = GrantProject
        fields = ["id", "name", "programme", "agreement_number", "starts_on", "ends_on", "final_payment_on",
                  "durability_years", "durability_ends_on", "durability_over", "manager", "manager_name", "notes",
                  "devices_count", "beneficiaries_count", "created_at", "updated_at"]

    def get_manager_name(self, obj: GrantProject) -> str:
        return (obj.manager.get_full_name() or obj.manager.get_username()) if obj.manager else ""

    def get_durability_over(self, obj: GrantProject) -> bool:
        return obj.durability_over_on(timezone.localdate())


class AddDevicesSerializer(serializers.Serializer):
    devices = serializers.PrimaryKeyRelatedField(many=True, queryset=Device.objects.all(), required=False, default=list)
    kits = serializers.PrimaryKeyRelatedField(many=True, queryset=Kit.objects.all(), required=False, default=list,
                                              help_text="Every device of each kit is added.")


class AddDevicesResultSerializer(serializers.Serializer):
    added = serializers.IntegerField(help_text="Devices newly recorded; those already in the project are left as they are.")
    project = ProjectSerializer()


class UntilQuerySerializer(serializers.Serializer):
    until = serializers.DateField(required=False, help_text="Last day considered (today by default).")


class GapQuerySerializer(UntilQuerySerializer):
    obligation = serializers.IntegerField(required=False, help_text="Only this obligation of the project.")


class GapSerializer(serializers.Serializer):
    obligation = serializers.IntegerField(source="obligation.pk")
    obligation_kind = serializers.CharField(source="obligation.kind")
    obligation_description = serializers.CharField(source="obligation.description")
    beneficiary = serializers.IntegerField(source="beneficiary.pk")
    beneficiary_code = serializers.CharField(source="beneficiary.code")
    month = MonthField()


class DurabilityReportSerializer(serializers.Serializer):
    on = serializers.DateField(required=False, allow_null=True, default=None,
                               help_text="The day the report speaks of (today by default).")


# --- beneficiaries --------------------------------------------------------------------------------

class BeneficiarySerializer(serializers.ModelSerializer):
    """A beneficiary with the contact of its loan recipient: only what is needed to hand over and reach it."""

    name = serializers.CharField(source="recipient.name", max_length=255)
    address = serializers.CharField(source="recipient.address", max_length=255, required=False, allow_blank=True)
    email = serializers.EmailField(source="recipient.email", required=False, allow_blank=True)
    phone = serializers.CharField(source="recipient.phone", max_length=40, required=False, allow_blank=True)
    project_name = serializers.CharField(source="project.name", read_only=True)
    holds_set = serializers.BooleanField(read_only=True, default=False,
                                         help_text="Holds a set of the project on an open loan now.")

    class Meta:
        model = Beneficiary
        fields = ["id", "project", "project_name", "code", "kind", "name", "address", "email", "phone", "recipient",
                  "eligibility_basis", "eligibility_document", "eligibility_reference", "qualified_on", "is_active",
                  "notes", "holds_set", "created_at", "updated_at"]
        read_only_fields = ["recipient"]
        # A multipart form leaves out an unticked box; a new beneficiary is active unless said otherwise.
        extra_kwargs = {"is_active": {"default": True}}
        # The service and the model's constraint check (project, code), with the office's own message.
        validators: list = []

    def service_kwargs(self) -> dict:
        """The validated input as the services take it: the contact flattened beside the beneficiary's fields."""
        data = dict(self.validated_data)
        data.update(data.pop("recipient", {}))
        return data


class AllocateSerializer(serializers.Serializer):
    kit = serializers.PrimaryKeyRelatedField(queryset=Kit.objects.all(), required=False, allow_null=True,
                                             default=None)
    devices = serializers.PrimaryKeyRelatedField(many=True, queryset=Device.objects.all(), required=False)
    starts_on = serializers.DateField()
    condition_at_handover = serializers.CharField(required=False, allow_blank=True, default="")
    accessories = AccessoryInputSerializer(many=True, required=False, default=list)
    notes = serializers.CharField(required=False, allow_blank=True, default="")


class AllocationSerializer(serializers.Serializer):
    loan = serializers.IntegerField(source="pk")
    status = serializers.CharField()
    starts_on = serializers.DateField()
    planned_end_on = serializers.DateField()
    devices = serializers.SerializerMethodField()
    documents = DonationDocumentSerializer(many=True, read_only=True)

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_devices(self, loan) -> list[str]:
        return [item.device.inventory_number for item in loan.items.all()]


# --- obligations ----------------------------------------------------------------------------------

class ObligationSerializer(serializers.ModelSerializer):
    project_name = serializers.CharField(source="project.name", read_only=True)
    # A plain string in the schema: the kinds of beneficiary are named once, on the beneficiary; the model
    # refuses a value that is not one of them.
    applies_to = serializers.CharField(
        max_length=20, required=False, allow_blank=True, default="",
        help_text="Only beneficiaries of this kind (" + ", ".join(BeneficiaryKind.values) + "); empty: every one.")

    class Meta:
        model = ProjectObligation
        fields = ["id", "project", "project_name", "kind", "description", "applies_to", "starts_on", "ends_on",
                  "created_at", "updated_at"]
        extra_kwargs = {"starts_on": {"required": False, "help_text": "The final payment by default."},
                        "ends_on": {"required": False, "help_text": "The end of the durability period by default."}}


class ObligationRecordSerializer(serializers.ModelSerializer):
    obligation_description = serializers.CharField(source="obligation.description", read_only=True)
    project = serializers.IntegerField(source="obligation.project_id", read_only=True)
    beneficiary_code = serializers.CharField(source="beneficiary.code", read_only=True)
    month = MonthField(read_only=True)
    recorded_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)

    class Meta:
        model = ObligationRecord
        fields = ["id", "obligation", "obligation_description", "project", "beneficiary", "beneficiary_code", "month",
                  "proof_reference", "proof_file", "note", "recorded_at", "recorded_by"]
        read_only_fields = fields


class RecordSerializer(serializers.Serializer):
    beneficiary = serializers.PrimaryKeyRelatedField(queryset=Beneficiary.objects.all())
    month = MonthField()
    proof_reference = serializers.CharField(max_length=255)
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=255)
    proof_file = serializers.FileField(required=False, validators=[uploads.validate_pdf])


class RecordMonthSerializer(serializers.Serializer):
    month = MonthField()
    proof_reference = serializers.CharField(max_length=255)
    beneficiaries = serializers.PrimaryKeyRelatedField(
        many=True, queryset=Beneficiary.objects.all(), required=False,
        help_text="Only these beneficiaries; every beneficiary the obligation applies to by default.")
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=255)


class RecordMonthResultSerializer(serializers.Serializer):
    recorded = serializers.IntegerField(help_text="Beneficiaries newly recorded; those already recorded are left.")
    records = ObligationRecordSerializer(many=True)


class CoverageSerializer(serializers.Serializer):
    month = MonthField()
    expected = serializers.IntegerField()
    recorded = serializers.IntegerField()
    missing = serializers.IntegerField()


# --- mayoral orders -------------------------------------------------------------------------------

class AnnexDeviceSerializer(serializers.Serializer):
    line = serializers.IntegerField(allow_null=True)
    device = serializers.IntegerField(source="device_id")
    inventory_number = serializers.CharField(source="device.inventory_number")
    device_status = serializers.CharField(source="device.status")


class AnnexBeneficiarySerializer(serializers.Serializer):
    line = serializers.IntegerField(allow_null=True)
    beneficiary = serializers.IntegerField(source="beneficiary_id")
    code = serializers.CharField(source="beneficiary.code")


class AnnexSerializer(serializers.Serializer):
    devices = AnnexDeviceSerializer(many=True)
    beneficiaries = AnnexBeneficiarySerializer(many=True)


class OrderSerializer(serializers.ModelSerializer):
    # Not the model's unique validator: the service refuses a number registered in any spelling of case.
    number = serializers.CharField(max_length=50, help_text="For example: 148/2019.")
    project_name = serializers.CharField(source="project.name", read_only=True, default=None, allow_null=True)
    annex_devices_count = serializers.IntegerField(read_only=True, default=0)
    annex_beneficiaries_count = serializers.IntegerField(read_only=True, default=0)
    annex = serializers.SerializerMethodField()

    class Meta:
        model = MayoralOrder
        fields = ["id", "number", "signed_on", "signatory", "title", "legal_basis", "kind", "in_force_from",
                  "in_force_until", "project", "project_name", "scan", "scan_sha256", "notes", "annex_devices_count",
                  "annex_beneficiaries_count", "annex", "created_at", "updated_at"]

    @extend_schema_field(AnnexSerializer(allow_null=True, read_only=True))
    def get_annex(self, obj: MayoralOrder) -> dict | None:
        """The annex line by line, in the detail only (null in lists)."""
        if not self.context.get("with_annex"):
            return None
        devices = obj.annex_device_rows.select_related("device").order_by("line", "device__inventory_number")
        beneficiaries = obj.annex_beneficiary_rows.select_related("beneficiary").order_by("line", "beneficiary__code")
        return AnnexSerializer({"devices": devices, "beneficiaries": beneficiaries}).data


class AnnexImportSerializer(serializers.Serializer):
    file = serializers.FileField(validators=[uploads.validate_size],
                                 help_text="CSV or XLSX with a column of inventory numbers and/or beneficiary codes.")
    dry_run = serializers.BooleanField(default=False)


class AnnexImportResultSerializer(serializers.Serializer):
    dry_run = serializers.BooleanField()
    devices_added = serializers.IntegerField()
    beneficiaries_added = serializers.IntegerField()
    already_listed = serializers.IntegerField()
    problems = serializers.ListField(child=serializers.DictField(),
                                     help_text="Line by line: line, column, value, reason.")


class AnnexAddSerializer(serializers.Serializer):
    devices = serializers.PrimaryKeyRelatedField(many=True, queryset=Device.objects.all(), required=False, default=list)
    beneficiaries = serializers.PrimaryKeyRelatedField(many=True, queryset=Beneficiary.objects.all(), required=False,
                                                       default=list)


# --- transfers ------------------------------------------------------------------------------------

class TransferItemSerializer(serializers.ModelSerializer):
    inventory_number = serializers.CharField(source="device.inventory_number", read_only=True)
    serial_number = serializers.CharField(source="device.serial_number", read_only=True)
    device_kind = serializers.CharField(source="device.kind", read_only=True)
    device_status = serializers.CharField(source="device.status", read_only=True)

    class Meta:
        model = TransferItem
        fields = ["device", "inventory_number", "serial_number", "device_kind", "device_status", "exception_applied"]
        read_only_fields = fields


class CheckResultSerializer(serializers.Serializer):
    """One check of the legal check (donations.legal.CheckResult), for the transfer or for one device."""

    check = serializers.CharField()
    label = serializers.CharField()
    passed = serializers.BooleanField()
    overridable = serializers.BooleanField(help_text="A lawyer may approve despite it, with reasons.")
    message = serializers.CharField()
    device_id = serializers.IntegerField(allow_null=True)
    device = serializers.CharField(help_text="The inventory number; empty for a check of the whole transfer.")
    exception_applied = serializers.BooleanField(help_text="Passes by the beneficiary exception, not by a wipe.")


class TransferEventSerializer(serializers.ModelSerializer):
    actor = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    from_status = serializers.CharField(read_only=True)
    to_status = serializers.CharField(read_only=True)
    document_code = serializers.CharField(source="document.code", read_only=True, default=None, allow_null=True)

    class Meta:
        model = TransferEvent
        fields = ["id", "kind", "occurred_at", "actor", "from_status", "to_status", "reason", "document_code",
                  "request_id"]
        read_only_fields = fields


class TransferSerializer(serializers.ModelSerializer):
    order_number = serializers.CharField(source="order.number", read_only=True)
    recipient_name = serializers.CharField(source="recipient.name", read_only=True)
    items = TransferItemSerializer(many=True, read_only=True)
    checks = CheckResultSerializer(many=True, read_only=True,
                                   help_text="The check as it stood when submitted, decided and completed.")
    protocol = DonationDocumentSerializer(read_only=True, allow_null=True)
    decided_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    events = TransferEventSerializer(many=True, read_only=True)
    allowed_moves = serializers.SerializerMethodField()

    class Meta:
        model = Transfer
        fields = ["id", "number", "order", "order_number", "recipient", "recipient_name", "transfer_date", "status",
                  "notes", "items", "checks", "override_reason", "decision_reason", "decided_at", "decided_by",
                  "completed_at", "protocol", "allowed_moves", "events", "created_by", "created_at", "updated_at"]
        read_only_fields = fields

    @extend_schema_field(MoveLinkSerializer(many=True))
    def get_allowed_moves(self, obj: Transfer) -> list[dict[str, str]]:
        return [{"action": action, "to_status": target} for action, target in transfer_allowed_moves(obj)]


class TransferCreateSerializer(serializers.Serializer):
    order = serializers.PrimaryKeyRelatedField(queryset=MayoralOrder.objects.all())
    recipient = serializers.PrimaryKeyRelatedField(queryset=Recipient.objects.all(),
                                                   help_text="The loan recipient (a beneficiary's recipient).")
    transfer_date = serializers.DateField()
    devices = serializers.PrimaryKeyRelatedField(many=True, queryset=Device.objects.all(), required=False, default=list)
    kits = serializers.PrimaryKeyRelatedField(many=True, queryset=Kit.objects.all(), required=False, default=list)
    notes = serializers.CharField(required=False, allow_blank=True, default="")


class TransferUpdateSerializer(serializers.Serializer):
    transfer_date = serializers.DateField(required=False)
    devices = serializers.PrimaryKeyRelatedField(many=True, queryset=Device.objects.all(), required=False)
    kits = serializers.PrimaryKeyRelatedField(many=True, queryset=Kit.objects.all(), required=False)
    notes = serializers.CharField(required=False, allow_blank=True)


class ApproveSerializer(serializers.Serializer):
    override_reason = serializers.CharField(
        required=False, allow_blank=True, default="",
        help_text="Needed when a check a lawyer may weigh fails; printed on the protocol.")
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class ReasonSerializer(serializers.Serializer):
    # Not required here: the service answers a missing reason with its own message, naming `reason`.
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class TransferCheckSerializer(serializers.Serializer):
    passed = serializers.BooleanField(help_text="Every check passes.")
    overridable = serializers.BooleanField(help_text="Every failed check is one a lawyer may override.")
    failed = serializers.ListField(child=serializers.CharField())
    checks = CheckResultSerializer(many=True)


class ForProjectSerializer(serializers.Serializer):
    order = serializers.PrimaryKeyRelatedField(queryset=MayoralOrder.objects.all())
    project = serializers.PrimaryKeyRelatedField(queryset=GrantProject.objects.all())
    transfer_date = serializers.DateField()
    kinds = serializers.ListField(
        child=serializers.CharField(), required=False, default=list,
        help_text="Only beneficiaries of these kinds (" + ", ".join(BeneficiaryKind.values) + "); all by default.")
    submit = serializers.BooleanField(default=False, help_text="Submit each transfer to the legal office at once.")
    background = serializers.BooleanField(default=False, help_text="Prepare them in a background job: 202 with the "
                                                                   "job, whose result lists created and skipped.")

    def validate_kinds(self, value: list[str]) -> list[str]:
        unknown = [kind for kind in value if kind not in BeneficiaryKind.values]
        if unknown:
            raise serializers.ValidationError(_("“%(kind)s” is not a kind of beneficiary.") % {"kind": unknown[0]})
        return value


class CompleteForProjectSerializer(serializers.Serializer):
    """Which approved transfers a background job completes: a project's, an order's, or both together."""

    project = serializers.PrimaryKeyRelatedField(queryset=GrantProject.objects.all(), required=False,
                                                 help_text="The project whose beneficiaries' approved transfers "
                                                           "to complete.")
    order = serializers.PrimaryKeyRelatedField(queryset=MayoralOrder.objects.all(), required=False,
                                               help_text="The order whose approved transfers to complete.")

    def validate(self, attrs):
        if not attrs.get("project") and not attrs.get("order"):
            raise serializers.ValidationError({"project": [_("Name the project or the order whose approved "
                                                             "transfers to complete.")]})
        return attrs


class CreatedTransferSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()
    status = serializers.CharField()
    recipient_name = serializers.CharField(source="recipient.name")


class SkippedSerializer(serializers.Serializer):
    beneficiary = serializers.CharField()
    reason = serializers.CharField()


class ForProjectResultSerializer(serializers.Serializer):
    created = CreatedTransferSerializer(many=True)
    skipped = SkippedSerializer(many=True)


# --- donations from residents ---------------------------------------------------------------------

class DonationOfferSerializer(serializers.ModelSerializer):
    decided_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    device_inventory_number = serializers.CharField(source="device.inventory_number", read_only=True, default=None,
                                                    allow_null=True)
    allowed_moves = serializers.SerializerMethodField()

    class Meta:
        model = DonationOffer
        fields = ["id", "donor_name", "donor_contact", "offered_on", "kind", "manufacturer", "model", "serial_number",
                  "description", "legal_source", "legal_source_reference", "legal_source_document",
                  "software_licences", "free_of_charge_declared", "status", "decided_at", "decided_by",
                  "decision_reason", "device", "device_inventory_number", "allowed_moves", "created_at", "updated_at"]

    @extend_schema_field(MoveLinkSerializer(many=True))
    def get_allowed_moves(self, obj: DonationOffer) -> list[dict[str, str]]:
        actions = {DonationStatus.ACCEPTED: "accept", DonationStatus.REFUSED: "refuse"}
        return [{"action": actions[target], "to_status": target} for target in sorted(DONATION_TRANSITIONS[obj.status])]


class MediumInputSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=MediumKind.choices)
    capacity_gb = serializers.IntegerField(min_value=1)
    serial_number = serializers.CharField(required=False, allow_blank=True, max_length=100)
    manufacturer = serializers.CharField(required=False, allow_blank=True, max_length=100)
    model = serializers.CharField(required=False, allow_blank=True, max_length=150)
    may_hold_personal_data = serializers.BooleanField(required=False)
    notes = serializers.CharField(required=False, allow_blank=True)


class AcceptSerializer(serializers.Serializer):
    inventory_number = serializers.CharField(max_length=50)
    location = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)
    media = MediumInputSerializer(many=True, required=False, default=list,
                                  help_text="The storage media found in the device, registered with it.")
    reason = serializers.CharField(required=False, allow_blank=True, default="")


# --- scrapping ------------------------------------------------------------------------------------

class LiquidationItemSerializer(serializers.ModelSerializer):
    inventory_number = serializers.CharField(source="device.inventory_number", read_only=True)
    device_kind = serializers.CharField(source="device.kind", read_only=True)
    device_status = serializers.CharField(source="device.status", read_only=True)

    class Meta:
        model = LiquidationItem
        fields = ["device", "inventory_number", "device_kind", "device_status"]
        read_only_fields = fields


class LiquidationSerializer(serializers.ModelSerializer):
    mass_kg = serializers.DecimalField(max_digits=10, decimal_places=3, min_value=Decimal("0.001"))
    order_number = serializers.CharField(source="order.number", read_only=True)
    devices = serializers.PrimaryKeyRelatedField(many=True, queryset=Device.objects.all(), write_only=True,
                                                 help_text="The devices handed over; each sanitized and in the annex.")
    items = LiquidationItemSerializer(many=True, read_only=True)
    protocol = DonationDocumentSerializer(read_only=True, allow_null=True)
    recorded_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)

    class Meta:
        model = Liquidation
        fields = ["id", "number", "order", "order_number", "handed_over_on", "collector_name", "collector_bdo",
                  "kpo_number", "waste_code", "mass_kg", "kpo_scan", "notes", "devices", "items", "protocol",
                  "recorded_by", "created_at", "updated_at"]
