"""The reports API: the compliance check, GET /api/compliance/ (URL name `compliance`).

A summary per kind of gap (code, label, count; zeros included) and the gaps themselves, a page at a time
(StandardPagination: `page`, `page_size`). Filters: `kind` (repeatable), `fault_open_days`,
`disk_destroy_days`; a bad value is a 400 naming the parameter. For whoever holds
`reports.view_compliance_check` (the IT office, the legal office, the auditor).
"""
from __future__ import annotations

from django.urls import path
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.pagination import StandardPagination
from core.permissions import require_perm
from reports.compliance import GapKind, run_check

class GapKindField(serializers.ChoiceField):
    """A kind of gap, by its code (ComplianceGapKindEnum in the schema: settings.ENUM_NAME_OVERRIDES)."""

    def __init__(self, **kwargs) -> None:
        super().__init__(choices=GapKind.choices, **kwargs)


class ComplianceQuerySerializer(serializers.Serializer):
    kind = serializers.ListField(child=GapKindField(), required=False, allow_empty=True,
                                 help_text=_("Only these kinds of gap (repeat the parameter for several)."))
    fault_open_days = serializers.IntegerField(
        required=False, min_value=0, max_value=36500,
        help_text=_("A fault not closed is a gap once reported more than this many days ago (default: the "
                    "COMPLIANCE_FAULT_OPEN_DAYS setting)."))
    disk_destroy_days = serializers.IntegerField(
        required=False, min_value=0, max_value=36500,
        help_text=_("A removed disk is a gap once not destroyed this many days after its removal (default: the "
                    "COMPLIANCE_DISK_DESTROY_DAYS setting)."))


class ComplianceGapRecordSerializer(serializers.Serializer):
    model = serializers.CharField(help_text=_("app_label.model, such as assets.device"))
    id = serializers.IntegerField()
    label = serializers.CharField(help_text=_("The inventory number, transfer number, code, ..."))
    url = serializers.CharField(help_text=_("The record's page in the admin."))


class ComplianceGapSerializer(serializers.Serializer):
    kind = GapKindField()
    label = serializers.CharField()
    record = ComplianceGapRecordSerializer()
    problem = serializers.CharField()
    fix = serializers.CharField()
    since = serializers.DateField(allow_null=True, help_text=_("The day the gap began, when it has one."))


class ComplianceGapCountSerializer(serializers.Serializer):
    kind = GapKindField()
    label = serializers.CharField()
    count = serializers.IntegerField()


class ComplianceParametersSerializer(serializers.Serializer):
    today = serializers.DateField()
    fault_open_days = serializers.IntegerField()
    disk_destroy_days = serializers.IntegerField()
    kinds = serializers.ListField(child=GapKindField())


class ComplianceSerializer(serializers.Serializer):
    checked_at = serializers.DateTimeField()
    parameters = ComplianceParametersSerializer()
    summary = ComplianceGapCountSerializer(many=True)
    count = serializers.IntegerField(help_text=_("How many gaps in all (every page)."))
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = ComplianceGapSerializer(many=True)


class ComplianceView(APIView):
    """The compliance check over the whole register: every gap, with its record, the problem and the fix."""

    permission_classes = [require_perm("reports.view_compliance_check")]

    @extend_schema(
        operation_id="compliance_check",
        summary="Compliance check",
        parameters=[ComplianceQuerySerializer,
                    OpenApiParameter("page", OpenApiTypes.INT, description="A page number within the gaps."),
                    OpenApiParameter("page_size", OpenApiTypes.INT, description="Gaps per page (at most 500).")],
        responses=ComplianceSerializer,
    )
    def get(self, request):
        query = ComplianceQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        report = run_check(kinds=data.get("kind") or None, fault_open_days=data.get("fault_open_days"),
                           disk_destroy_days=data.get("disk_destroy_days"))
        paginator = StandardPagination()
        page = paginator.paginate_queryset(report.gaps, request, view=self)
        return Response({
            "checked_at": report.checked_at,
            "parameters": report.parameters,
            "summary": report.summary(),
            "count": report.total,
            "next": paginator.get_next_link(),
            "previous": paginator.get_previous_link(),
            "results": ComplianceGapSerializer(page, many=True).data,
        })


urlpatterns = [path("compliance/", ComplianceView.as_view(), name="compliance")]
