from __future__ import annotations

import django_filters
from django.contrib.auth import get_user_model
from django.db.models import Prefetch, Q
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from core.api.serializers import (
    ImportBatchSerializer,
    JobSerializer,
    ImportConfirmSerializer,
    ImportTableSerializer,
    ImportUploadSerializer,
    StoredDocumentSerializer,
)
from core.api.viewsets import HolderScopedMixin
from core.choices import DocumentKind, ImportStatus, JobStatus
from core.filters import IdsFilter
from core.imports import (
    Importer,
    get_importer,
    import_cancel,
    import_confirm,
    import_preview,
    importers,
    visible_batches,
)
from core.jobs import job_resume, job_start, kinds, visible_jobs
from core.models import ImportBatch, Job, JobEvent, StoredDocument
from core.permissions import require_perm
from core.selectors import visible_documents


class StoredDocumentFilterSet(django_filters.FilterSet):
    kind = django_filters.MultipleChoiceFilter(choices=DocumentKind.choices)
    issued_at = django_filters.DateFromToRangeFilter()

    class Meta:
        model = StoredDocument
        fields = ["kind", "code", "subject_type", "subject_id", "issued_at"]


class StoredDocumentViewSet(HolderScopedMixin, viewsets.ReadOnlyModelViewSet):
    """Documents the office has issued (record cards, protocols, certificates); a borrower sees their own."""

    queryset = StoredDocument.objects.select_related("issued_by").order_by("-issued_at", "-id")
    serializer_class = StoredDocumentSerializer
    filterset_class = StoredDocumentFilterSet
    lookup_field = "code"
    # A code is letters, digits and a hyphen: anything else is no document (a NUL byte in the path was a 500
    # on PostgreSQL, which refuses it in a query).
    lookup_value_regex = "[0-9A-Za-z-]+"

    def get_queryset(self):
        # Only documents about records the user may see (core.selectors.visible_documents).
        return visible_documents(self.request.user, super().get_queryset())


# --- imports of spreadsheets ----------------------------------------------------------------------

def _tables() -> list[tuple[str, str]]:
    # Called when a filter is built: the importers are registered by the apps' ready().
    return [(importer.key, importer.label) for importer in importers()]


class ImportBatchFilterSet(django_filters.FilterSet):
    table = django_filters.MultipleChoiceFilter(choices=_tables)
    status = django_filters.MultipleChoiceFilter(choices=ImportStatus.choices)
    created_by_id = IdsFilter(field_name="created_by",
                              queryset=get_user_model().objects.all())
    created_at = django_filters.DateFromToRangeFilter()
    q = django_filters.CharFilter(method="search", label=gettext_lazy("Search"))

    class Meta:
        model = ImportBatch
        fields = ["table", "status", "created_by_id", "created_at", "sha256"]

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(file_name__icontains=value) | Q(sha256__startswith=value.lower()))


# Every import needs this; the table's own add/change permissions are checked against its importer.
APPLY_IMPORT = require_perm("core.apply_importbatch")


def _may_import(user, importer: Importer) -> None:
    if not importer.user_may_import(user):
        raise PermissionDenied(_("You may not import into “%(table)s”.") % {"table": importer.label})


class ImportBatchViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Imports of spreadsheets. POST a file to preview it (a dry run: nothing is written, the file and what
    the run found are kept); confirm the preview with the file's SHA-256 to apply it, or cancel it."""

    queryset = ImportBatch.objects.select_related("created_by", "decided_by")
    serializer_class = ImportBatchSerializer
    filterset_class = ImportBatchFilterSet
    parser_classes = [JSONParser, MultiPartParser, FormParser]
    ordering_fields = ["created_at", "decided_at", "file_name", "rows_total", "rows_invalid"]

    def get_queryset(self):
        return visible_batches(self.request.user, super().get_queryset())

    def _read(self, batch: ImportBatch, code: int = status.HTTP_200_OK) -> Response:
        batch = self.get_queryset().get(pk=batch.pk)
        return Response(self.get_serializer(batch).data, status=code)

    @extend_schema(request={"multipart/form-data": ImportUploadSerializer}, responses={201: ImportBatchSerializer})
    def create(self, request, *args, **kwargs):
        """Preview an import: a dry run of the whole file, kept with its counts and every invalid row."""
        payload = ImportUploadSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        importer = get_importer(data["table"])
        _may_import(request.user, importer)
        upload = data["file"]
        batch = import_preview(table=importer.key, file=upload, file_name=upload.name, by=request.user,
                               skip_invalid=data["skip_invalid"], only_new=data["only_new"],
                               size=upload.size)
        return self._read(batch, status.HTTP_201_CREATED)

    def get_permissions(self):
        if self.action == "create":
            return [APPLY_IMPORT()]
        return super().get_permissions()

    @extend_schema(request={"application/json": ImportConfirmSerializer, "multipart/form-data": ImportConfirmSerializer},
                   responses={200: ImportBatchSerializer, 202: JobSerializer})
    @action(detail=True, methods=["post"], permission_classes=[APPLY_IMPORT])
    def confirm(self, request, pk=None):
        """Apply the preview, exactly as previewed: prove the file with its SHA-256 (or send it again)."""
        batch = self.get_object()
        payload = ImportConfirmSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        _may_import(request.user, get_importer(batch.table))
        if payload.validated_data["background"]:
            sha256 = payload.validated_data.get("sha256", "")
            upload = payload.validated_data.get("file")
            if upload is not None:
                from core.imports import _hash

                sha256, _size = _hash(upload)
            job = job_start(kind="core.import_confirm", params={"batch": batch.pk, "sha256": sha256},
                            by=request.user)
            return job_accepted(request, job)
        batch = import_confirm(batch=batch, by=request.user, sha256=payload.validated_data.get("sha256", ""),
                               file=payload.validated_data.get("file"))
        return self._read(batch)

    @extend_schema(request=None, responses=ImportBatchSerializer)
    @action(detail=True, methods=["post"], permission_classes=[APPLY_IMPORT])
    def cancel(self, request, pk=None):
        """Drop a preview that will not be applied; the record stays."""
        batch = self.get_object()
        _may_import(request.user, get_importer(batch.table))
        return self._read(import_cancel(batch=batch, by=request.user))

    @extend_schema(responses=ImportTableSerializer(many=True))
    @action(detail=False, methods=["get"], permission_classes=[IsAuthenticated], filter_backends=[],
            pagination_class=None)
    def tables(self, request):
        """The tables the user may import into, with the columns of an empty file to fill in."""
        rows = [{"key": importer.key, "label": str(importer.label), "columns": importer.template_header()}
                for importer in importers() if importer.user_may_import(request.user)]
        return Response(ImportTableSerializer(rows, many=True).data)


# --- background jobs --------------------------------------------------------------------------------

def job_accepted(request, job: Job) -> Response:
    """The answer of a start point run in the background: 202 with the job, and where to follow it."""
    job = Job.objects.select_related("created_by").prefetch_related(
        Prefetch("events", queryset=JobEvent.objects.select_related("actor"))).get(pk=job.pk)
    body = JobSerializer(job, context={"request": request}).data
    return Response(body, status=status.HTTP_202_ACCEPTED,
                    headers={"Location": request.build_absolute_uri(reverse("job-detail", kwargs={"pk": job.pk}))})


def _kinds() -> list[tuple[str, str]]:
    return [(kind.name, kind.label) for kind in kinds()]


class JobFilterSet(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=JobStatus.choices)
    kind = django_filters.MultipleChoiceFilter(choices=_kinds)
    mine = django_filters.BooleanFilter(method="only_mine", label=gettext_lazy("only the jobs I started"))
    created_by_id = IdsFilter(field_name="created_by", queryset=get_user_model().objects.all())
    created_at = django_filters.DateFromToRangeFilter()

    class Meta:
        model = Job
        fields = ["status", "kind", "mine", "created_by_id", "created_at"]

    def only_mine(self, queryset, name, value):
        return queryset.filter(created_by=self.request.user) if value else queryset


class JobViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Background jobs: a person sees the jobs they started, the IT office everyone's. Each shows its progress
    (done and skipped of total, percent), result or error, and its steps. A job is started from the move it
    makes (`background: true` on an import's confirmation or a report, `/api/transfers/complete-for-project/`);
    `resume` puts a failed job, or one whose worker stopped answering, back in the queue."""

    queryset = Job.objects.select_related("created_by").prefetch_related(
        Prefetch("events", queryset=JobEvent.objects.select_related("actor")))
    serializer_class = JobSerializer
    filterset_class = JobFilterSet
    ordering_fields = ["created_at", "finished_at", "status"]

    def get_queryset(self):
        return visible_jobs(self.request.user, super().get_queryset())

    @extend_schema(request=None, responses=JobSerializer)
    @action(detail=True, methods=["post"], permission_classes=[require_perm("core.resume_job")])
    def resume(self, request, pk=None):
        """Queue again a failed job, or a running one whose worker has been silent for JOB_STALE_AFTER seconds;
        it goes on from the last unit recorded (nothing is done twice)."""
        job = job_resume(job=self.get_object(), by=request.user)
        return Response(self.get_serializer(self.get_queryset().get(pk=job.pk)).data)
