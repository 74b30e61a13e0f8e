from django.urls import reverse
from rest_framework import serializers

from core.models import StoredDocument


class StoredDocumentSerializer(serializers.ModelSerializer):
    verify_url = serializers.SerializerMethodField()
    download_url = serializers.SerializerMethodField()
    issued_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = StoredDocument
        fields = ["id", "code", "kind", "title", "sha256", "size", "template_version", "issued_at", "issued_by",
                  "subject_type", "subject_id", "verify_url", "download_url"]
        read_only_fields = fields

    def get_verify_url(self, obj: StoredDocument) -> str:
        return obj.get_verify_url()

    def get_download_url(self, obj: StoredDocument) -> str:
        request = self.context.get("request")
        url = reverse("document-download", kwargs={"code": obj.code})
        return request.build_absolute_uri(url) if request else url
