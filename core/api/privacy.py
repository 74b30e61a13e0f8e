"""The two API actions on a person's record (core.privacy): `GET .../personal-data/` downloads everything
held about them as JSON, `POST .../anonymise/` erases it once the retention period is over (409 with the
reason before, or when it is already done). Each needs its own permission, not the model's."""
from __future__ import annotations

import logging
from datetime import datetime

from django.core.serializers.json import DjangoJSONEncoder
from django.http import JsonResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from core.models import Anonymisation
from core.permissions import require_perm

log = logging.getLogger("core.privacy")


class AnonymisationSerializer(serializers.ModelSerializer):
    anonymised_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)

    class Meta:
        model = Anonymisation
        fields = ["id", "label", "anonymised_at", "anonymised_by", "retention_ended_on", "summary"]


def personal_data_response(data: dict, *, name: str, by) -> JsonResponse:
    """The export as a JSON file to save (UTF-8, Polish letters as they are), never kept by a cache.

    Who exported whose data goes to the log (core.privacy): an export is a read and writes no record,
    but the office must be able to say who took a copy of a person's data, and when."""
    subjects = [item["subject"] for item in data.get("subjects", [data])]
    log.info("personal data of %s exported by user %s", ", ".join(f"{s['type']} {s['id']}" for s in subjects),
             getattr(by, "pk", None))
    response = JsonResponse(data, encoder=DjangoJSONEncoder, json_dumps_params={"ensure_ascii": False, "indent": 2})
    stamp = datetime.now().strftime("%Y%m%d")
    response["Content-Disposition"] = f'attachment; filename="personal-data-{name}-{stamp}.json"'
    response["Cache-Control"] = "private, no-store"
    return response


class PersonalDataMixin:
    """Add to a viewset over people; set the two services and the two permissions."""

    personal_data_export = None  # export(subject) -> dict
    personal_data_anonymise = None  # anonymise(subject, by=user) -> Anonymisation
    personal_data_name = "subject"
    export_permission = ""
    anonymise_permission = ""

    def get_permissions(self):
        if self.action == "personal_data":
            return [require_perm(self.export_permission)()]
        if self.action == "anonymise":
            return [require_perm(self.anonymise_permission)()]
        return super().get_permissions()

    @extend_schema(request=None, responses={200: OpenApiResponse(OpenApiTypes.OBJECT, description=(
        "Everything held about the person, as a JSON file: the record and its history, loans, faults, "
        "transfers, obligation records, issued documents by code and SHA-256."))})
    @action(detail=True, methods=["get"], url_path="personal-data")
    def personal_data(self, request, pk=None):
        subject = self.get_object()
        data = type(self).personal_data_export(subject)
        return personal_data_response(data, name=f"{self.personal_data_name}-{subject.pk}", by=request.user)

    @extend_schema(request=None, responses={200: AnonymisationSerializer, 409: OpenApiResponse(
        OpenApiTypes.OBJECT, description="Refused, with the reason: the retention period is not over, a loan is "
                                         "open, or the person is already anonymised.")})
    @action(detail=True, methods=["post"])
    def anonymise(self, request, pk=None):
        subject = self.get_object()
        erasure = type(self).personal_data_anonymise(subject, by=request.user)
        return Response(AnonymisationSerializer(erasure).data)
