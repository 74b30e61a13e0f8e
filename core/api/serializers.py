from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.models import ImportBatch, Job, JobEvent, StoredDocument


class ListedFieldsOnceMixin:
    """For a serializer that writes long lists (a page of devices, their media): the fields it shows,
    found once per serializer rather than once per row. DRF walks every field again for each object it
    writes; on a page of 50 devices with their media that walk cost a fifth of the request."""

    @property
    def _readable_fields(self):
        try:
            return self.__dict__["_listed_fields"]
        except KeyError:
            fields = self.__dict__["_listed_fields"] = [field for field in self.fields.values()
                                                        if not field.write_only]
            return fields


class StoredDocumentSerializer(serializers.ModelSerializer):
    verify_url = serializers.SerializerMethodField()
    download_url = serializers.SerializerMethodField()
    issued_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)

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


# --- imports of spreadsheets ----------------------------------------------------------------------


class ImportCountsSerializer(serializers.Serializer):
    """What the dry run found, row by row; after the confirmation, what the import did."""

    rows_total = serializers.IntegerField()
    rows_created = serializers.IntegerField()
    rows_updated = serializers.IntegerField()
    rows_unchanged = serializers.IntegerField()
    rows_invalid = serializers.IntegerField()


class ImportFormatSerializer(serializers.Serializer):
    kind = serializers.CharField(help_text="csv or xlsx")
    encoding = serializers.CharField(allow_null=True)
    delimiter = serializers.CharField(allow_null=True)


class ImportIgnoredColumnSerializer(serializers.Serializer):
    column = serializers.CharField(help_text="The column as the file heads it.")
    reason = serializers.CharField(help_text="Why the import never writes it.")


class ImportKeySerializer(serializers.Serializer):
    row = serializers.IntegerField(help_text="The row's number in the file (the header is row 1).")
    key = serializers.CharField(help_text="The record's key: an inventory number, a NIP, ...")


class ImportUpdateKeySerializer(ImportKeySerializer):
    fields = serializers.ListField(child=serializers.CharField(), help_text="The fields the row changes.")


class ImportIssueSerializer(serializers.Serializer):
    row = serializers.IntegerField(help_text="The row's number in the file (the header is row 1).")
    column = serializers.CharField(help_text="The column as the file heads it.")
    value = serializers.CharField(allow_blank=True)
    reason = serializers.CharField()


class ImportBatchPreviewSerializer(serializers.Serializer):
    """The preview as the dry run stored it; lists keep their first rows only, the counts are complete."""

    format = ImportFormatSerializer()
    columns = serializers.DictField(child=serializers.CharField(),
                                    help_text="The columns kept: field -> the column as the file heads it.")
    ignored_columns = ImportIgnoredColumnSerializer(many=True, help_text="Columns recognised but never imported.")
    unknown_columns = serializers.ListField(child=serializers.CharField(), help_text="Columns that mean no field.")
    created = ImportKeySerializer(many=True, help_text="The first rows that create a record.")
    updated = ImportUpdateKeySerializer(many=True, help_text="The first rows that change a record.")
    errors = ImportIssueSerializer(many=True, help_text="The first problems of the invalid rows.")
    errors_total = serializers.IntegerField(help_text="Every problem found, listed or not.")


class ImportBatchSerializer(serializers.ModelSerializer):
    """An import: the file (name, size, SHA-256 to confirm it with), its status, and what the dry run found."""

    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    decided_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    counts = ImportCountsSerializer(source="*", read_only=True)
    preview = serializers.SerializerMethodField()
    allowed_transitions = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta:
        model = ImportBatch
        fields = ["id", "table", "file_name", "size", "sha256", "status", "only_new", "skip_invalid", "created_at", "created_by",
                  "decided_at", "decided_by", "counts", "preview", "allowed_transitions"]
        read_only_fields = fields

    @extend_schema_field(ImportBatchPreviewSerializer)
    def get_preview(self, obj: ImportBatch) -> dict:
        return obj.preview  # as stored: the JSON is the record


class ImportUploadSerializer(serializers.Serializer):
    table = serializers.CharField(max_length=40, help_text="The table to import into, as /api/imports/tables/ lists it.")
    file = serializers.FileField(help_text="A CSV (UTF-8 or Windows-1250, any of ; , tab |) or an XLSX file.")
    skip_invalid = serializers.BooleanField(
        default=False, help_text="Apply the valid rows and report the invalid ones; otherwise any invalid row stops "
                                 "the import.")
    only_new = serializers.BooleanField(
        default=False, help_text="A row whose key is already registered is invalid instead of updating that record.")


class ImportConfirmSerializer(serializers.Serializer):
    sha256 = serializers.CharField(required=False, allow_blank=True, max_length=64,
                                   help_text="The SHA-256 of the previewed file, as the preview shows it.")
    file = serializers.FileField(required=False, help_text="Or the previewed file, sent again.")
    background = serializers.BooleanField(
        default=False, help_text="Apply it in a background job: 202 with the job (its progress at /api/jobs/{id}/).")


class ImportTableSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()
    columns = serializers.ListField(child=serializers.CharField(),
                                    help_text="The header of an empty file to fill in, by field name.")


# --- background jobs --------------------------------------------------------------------------------


class JobEventSerializer(serializers.ModelSerializer):
    actor = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)

    class Meta:
        model = JobEvent
        fields = ["occurred_at", "actor", "from_status", "to_status", "reason"]
        read_only_fields = fields


class JobSerializer(serializers.ModelSerializer):
    """A background job: what it does, where it stands, how far it got (done and skipped of total, percent),
    its result or error, and its steps."""

    kind_display = serializers.SerializerMethodField()
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    percent = serializers.IntegerField(read_only=True, allow_null=True,
                                       help_text="Done and skipped of total, in whole percent; null while unknown.")
    allowed_transitions = serializers.ListField(child=serializers.CharField(), read_only=True)
    events = JobEventSerializer(many=True, read_only=True)
    url = serializers.SerializerMethodField()

    class Meta:
        model = Job
        fields = ["id", "url", "kind", "kind_display", "params", "status", "total", "done", "skipped", "percent",
                  "result", "error", "created_at", "created_by", "started_at", "finished_at", "heartbeat_at",
                  "attempts", "allowed_transitions", "events"]
        read_only_fields = fields

    def get_kind_display(self, obj: Job) -> str:
        from core.jobs import kind_label

        return kind_label(obj.kind)

    def get_url(self, obj: Job) -> str:
        request = self.context.get("request")
        url = reverse("job-detail", kwargs={"pk": obj.pk})
        return request.build_absolute_uri(url) if request else url
