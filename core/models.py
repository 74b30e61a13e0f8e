"""What every app stands on: a timestamped base model and the registry of issued documents."""
from __future__ import annotations

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils.translation import gettext_lazy as _

from core.choices import DocumentKind

__all__ = ["TimeStampedModel", "StoredDocument"]


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        abstract = True

    # Names of CheckConstraints that a field validator or the model's clean() already checks, with a
    # message on the field; the database enforces them, so full_clean() need not re-check each with a
    # query of its own. A constraint not listed here is still validated by Django.
    checks_validated_elsewhere: frozenset[str] = frozenset()

    def get_constraints(self):
        skip = self.checks_validated_elsewhere
        return [(model, [c for c in constraints if c.name not in skip])
                for model, constraints in super().get_constraints()]


def _document_path(instance: "StoredDocument", filename: str) -> str:
    return f"documents/{instance.issued_at:%Y/%m}/{instance.code}.pdf"


class StoredDocument(models.Model):
    """A PDF the office issued, kept byte for byte so that anyone holding a printout can check it.

    The verification code is printed (and QR-encoded) on the document; `/verify/<code>/` shows the
    public facts below and compares an uploaded file's SHA-256 with `sha256`. `title` is public: it
    must never carry personal data.
    """

    code = models.CharField(_("verification code"), max_length=16, unique=True)
    kind = models.CharField(_("kind"), max_length=40, choices=DocumentKind.choices)
    title = models.CharField(
        _("what it certifies"), max_length=255, help_text=_("Shown publicly on the verification page; no personal data.")
    )
    file = models.FileField(_("file"), upload_to=_document_path)
    sha256 = models.CharField(_("SHA-256"), max_length=64, db_index=True)
    size = models.PositiveIntegerField(_("size in bytes"))
    template_version = models.CharField(_("template version"), max_length=40)
    issued_at = models.DateTimeField(_("issued at"))
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("issued by"), null=True,
        blank=True,  # documents issued by the system (a command, a service called without a user)
    )
    subject_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, verbose_name=_("subject type"))
    subject_id = models.PositiveBigIntegerField(_("subject id"))
    subject = GenericForeignKey("subject_type", "subject_id")

    class Meta:
        verbose_name = _("issued document")
        verbose_name_plural = _("issued documents")
        ordering = ["-issued_at"]
        indexes = [models.Index(fields=["subject_type", "subject_id"], name="document_subject_idx")]
        constraints = [
            models.CheckConstraint(condition=models.Q(sha256__regex=r"^[0-9a-f]{64}$"), name="document_sha256_hex"),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.code})"

    def get_verify_url(self) -> str:
        from django.urls import reverse

        return settings.SITE_URL + reverse("verify", kwargs={"code": self.code})
