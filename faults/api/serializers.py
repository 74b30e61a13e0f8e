"""Serializers of fault reports: they shape and check input; faults.services decides and writes."""
from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from assets.api.serializers import MoveLinkSerializer
from assets.models import Device
from faults.choices import FaultCategory
from faults.models import FaultReply, FaultReport
from faults.services import fault_allowed_moves


class FaultReplySerializer(serializers.ModelSerializer):
    author_name = serializers.SerializerMethodField()

    class Meta:
        model = FaultReply
        fields = ["id", "author_name", "from_office", "body", "created_at"]
        read_only_fields = fields

    def get_author_name(self, obj: FaultReply) -> str:
        return obj.author.get_full_name() or obj.author.get_username()


class FaultSerializer(serializers.ModelSerializer):
    inventory_number = serializers.CharField(source="device.inventory_number", read_only=True)
    recipient_name = serializers.CharField(source="loan.recipient.name", read_only=True)
    replacement_inventory_number = serializers.CharField(source="replacement.inventory_number", read_only=True,
                                                         default=None, allow_null=True)
    replies = FaultReplySerializer(many=True, read_only=True)
    has_photo = serializers.SerializerMethodField()
    allowed_moves = serializers.SerializerMethodField()

    class Meta:
        model = FaultReport
        fields = ["id", "device", "inventory_number", "loan", "recipient_name", "category", "description",
                  "contact", "has_photo", "status", "status_changed_at", "replacement",
                  "replacement_inventory_number", "replacement_loan", "replies", "allowed_moves", "created_at",
                  "updated_at"]
        read_only_fields = fields

    def get_has_photo(self, obj: FaultReport) -> bool:
        return bool(obj.photo)

    @extend_schema_field(MoveLinkSerializer(many=True))
    def get_allowed_moves(self, obj: FaultReport) -> list[dict[str, str]]:
        request = self.context.get("request")
        if request is not None and not request.user.has_perm("faults.handle_fault"):
            return []
        return [{"action": action, "to_status": target} for action, target in fault_allowed_moves(obj)]


class FaultReportSerializer(serializers.Serializer):
    device = serializers.PrimaryKeyRelatedField(queryset=Device.objects.all())
    category = serializers.ChoiceField(choices=FaultCategory.choices)
    description = serializers.CharField()
    contact = serializers.CharField(max_length=200)
    photo = serializers.FileField(required=False, allow_empty_file=False)



class ReplyInputSerializer(serializers.Serializer):
    reply = serializers.CharField(required=False, allow_blank=True, default="")


class RequiredReplySerializer(serializers.Serializer):
    reply = serializers.CharField()


class StartWorkSerializer(ReplyInputSerializer):
    take_into_repair = serializers.BooleanField(required=False, default=False)


class ReplaceSerializer(ReplyInputSerializer):
    replacement = serializers.PrimaryKeyRelatedField(queryset=Device.objects.all())


class MessageSerializer(serializers.Serializer):
    body = serializers.CharField()
