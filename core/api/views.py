import django_filters
from rest_framework import viewsets

from core.api.serializers import StoredDocumentSerializer
from core.api.viewsets import HolderScopedMixin
from core.choices import DocumentKind
from core.models import StoredDocument


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
