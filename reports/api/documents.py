"""The reports API: the report PDFs. GET /api/issued-reports/ lists the reports issued (filter by kind and
year); POST issues one (the inventory register as of a day, the end-of-life forecast, the annual disposal
report for a year) and answers with its verification code and where to verify and download it."""
from __future__ import annotations

import django_filters
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.response import Response

from core.api.serializers import JobSerializer
from core.api.views import job_accepted
from core.jobs import job_start
from core.permissions import require_perm
from reports.jobs import ISSUE_REPORT
from reports.models import IssuedReport, ReportKind
from reports.services import FIRST_YEAR, report_issue

__all__ = ["IssuedReportViewSet", "IssuedReportSerializer", "IssueReportSerializer", "routes", "urlpatterns"]


class IssuedReportSerializer(serializers.ModelSerializer):
    """An issued report: what was asked (kind, day or year), who issued it when, and its PDF."""

    kind_display = serializers.CharField(source="get_kind_display", read_only=True)
    issued_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    code = serializers.CharField(source="document.code", read_only=True, default=None, allow_null=True)
    title = serializers.CharField(source="document.title", read_only=True, default=None, allow_null=True)
    sha256 = serializers.CharField(source="document.sha256", read_only=True, default=None, allow_null=True)
    verify_url = serializers.SerializerMethodField()
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = IssuedReport
        fields = ["id", "kind", "kind_display", "as_of", "year", "issued_at", "issued_by", "code", "title", "sha256",
                  "verify_url", "download_url"]
        read_only_fields = fields

    def get_verify_url(self, obj: IssuedReport) -> str | None:
        return obj.document.get_verify_url() if obj.document else None

    def get_download_url(self, obj: IssuedReport) -> str | None:
        if not obj.document:
            return None
        url = reverse("document-download", kwargs={"code": obj.document.code})
        request = self.context.get("request")
        return request.build_absolute_uri(url) if request else url


class IssueReportSerializer(serializers.Serializer):
    """What to issue: the kind; the day for the register and the forecast (today if left out); the year for
    the annual disposal report."""

    kind = serializers.ChoiceField(choices=ReportKind.choices)
    as_of = serializers.DateField(required=False, allow_null=True,
                                  help_text=_("The day the register or the forecast describes; today if left out."))
    year = serializers.IntegerField(required=False, allow_null=True, min_value=FIRST_YEAR, max_value=9999,
                                    help_text=_("The calendar year of the annual disposal report."))
    background = serializers.BooleanField(
        default=False, help_text=_("Issue it in a background job: 202 with the job, whose progress is at "
                                   "/api/jobs/{id}/ and whose result names the report."))


class IssuedReportFilterSet(django_filters.FilterSet):
    kind = django_filters.MultipleChoiceFilter(choices=ReportKind.choices)
    # Bounded to the years a date can have: the lookup builds 1 January and 31 December of it (was a 500).
    year = django_filters.NumberFilter(method="period_year", label=_("year"), min_value=1, max_value=9999,
                                       help_text=_("The year of the report's period: its calendar year, or the "
                                                   "year of its day."))
    issued_at = django_filters.DateFromToRangeFilter()

    class Meta:
        model = IssuedReport
        fields = ["kind", "year", "issued_at"]

    def period_year(self, queryset, name, value):
        year = int(value)
        return queryset.filter(Q(year=year) | Q(year__isnull=True, as_of__year=year))


class IssuedReportViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                          viewsets.GenericViewSet):
    """The report PDFs the office has issued. POST {kind, as_of?, year?} issues one (reports.issue_report)."""

    queryset = IssuedReport.objects.select_related("issued_by", "document")
    serializer_class = IssuedReportSerializer
    filterset_class = IssuedReportFilterSet
    ordering_fields = ["issued_at", "as_of", "year"]

    def get_permissions(self):
        if self.action == "create":
            return [require_perm("reports.issue_report")()]
        return super().get_permissions()

    @extend_schema(request=IssueReportSerializer, responses={201: IssuedReportSerializer, 202: JobSerializer})
    def create(self, request, *args, **kwargs):
        """Issue a report PDF; 201 with its verification code, verification page and download address."""
        payload = IssueReportSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        if data["background"]:
            as_of = data.get("as_of")
            job = job_start(kind=ISSUE_REPORT, by=request.user,
                            params={"kind": data["kind"], "as_of": as_of.isoformat() if as_of else None,
                                    "year": data.get("year"), "language": get_language()})
            return job_accepted(request, job)
        report = report_issue(kind=data["kind"], by=request.user, as_of=data.get("as_of"), year=data.get("year"),
                              language=get_language())
        report = self.get_queryset().get(pk=report.pk)
        return Response(self.get_serializer(report).data, status=status.HTTP_201_CREATED)


routes = [("issued-reports", IssuedReportViewSet, "issued-report")]
urlpatterns: list = []
