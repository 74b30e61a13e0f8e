"""Loans for use (użyczenie, Civil Code art. 710): who holds which devices, why, until when, with what."""
from __future__ import annotations

from django.conf import settings
from django.contrib.contenttypes.fields import GenericRelation
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from assets.models import Device, Kit
from core.models import TimeStampedModel
from loans.choices import (
    AccessoryKind,
    FindingStatus,
    LoanEventKind,
    LoanPurpose,
    LoanStatus,
    RecipientKind,
    SetupStep,
)

__all__ = ["CouncilTerm", "Recipient", "Loan", "LoanItem", "LoanAccessory", "LoanSetupStep", "LoanFinding",
           "LoanEvent"]


class CouncilTerm(TimeStampedModel):
    """A council's term of office (kadencja). Councillors' loans end with it, and move when it moves."""

    council = models.CharField(_("council"), max_length=200)
    name = models.CharField(_("name"), max_length=100)
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("ends on"))
    history = HistoricalRecords()
    checks_validated_elsewhere = frozenset({"council_term_dates"})

    class Meta:
        verbose_name = _("council term")
        verbose_name_plural = _("council terms")
        ordering = ["-starts_on"]
        constraints = [
            models.CheckConstraint(condition=models.Q(ends_on__gt=models.F("starts_on")), name="council_term_dates"),
        ]

    def __str__(self) -> str:
        return f"{self.council}, {self.name}"

    def clean(self) -> None:
        if self.starts_on and self.ends_on and self.ends_on <= self.starts_on:
            raise ValidationError({"ends_on": _("The term must end after it starts.")})


class Recipient(TimeStampedModel):
    """Who borrows: a councillor with a user account, or a person or institution without one."""

    kind = models.CharField(_("kind"), max_length=20, choices=RecipientKind.choices)
    name = models.CharField(_("name"), max_length=255)
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                related_name="loan_recipient", verbose_name=_("user account"))
    address = models.CharField(_("address"), max_length=255, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("recipient")
        verbose_name_plural = _("recipients")
        ordering = ["name"]
        permissions = [
            ("export_personal_data_recipient", _("Can export the personal data of a recipient")),
            ("anonymise_recipient", _("Can anonymise a recipient after the retention period")),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.kind == RecipientKind.COUNCILLOR and not self.user_id:
            raise ValidationError({"user": _("A councillor borrows under their own user account.")})


class Loan(TimeStampedModel):
    """One handover for use: the devices a recipient takes at once (a kit, or a single device)."""

    recipient = models.ForeignKey(Recipient, on_delete=models.PROTECT, related_name="loans",
                                  verbose_name=_("recipient"))
    purpose = models.CharField(_("purpose"), max_length=30, choices=LoanPurpose.choices)
    council_term = models.ForeignKey(CouncilTerm, on_delete=models.PROTECT, null=True, blank=True,
                                     related_name="loans", verbose_name=_("council term"))
    kit = models.ForeignKey(Kit, on_delete=models.PROTECT, null=True, blank=True, related_name="loans",
                            verbose_name=_("kit"))
    starts_on = models.DateField(_("starts on"))
    planned_end_on = models.DateField(_("planned end"))
    ended_on = models.DateField(_("ended on"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=20, choices=LoanStatus.choices, default=LoanStatus.OPEN,
                              editable=False)
    condition_at_handover = models.TextField(_("condition at handover"))
    condition_at_return = models.TextField(_("condition at return"), blank=True)
    notes = models.TextField(_("notes"), blank=True)
    # The agreement and the handover and return protocols issued for this loan (core.StoredDocument).
    documents = GenericRelation("core.StoredDocument", content_type_field="subject_type",
                                object_id_field="subject_id", related_query_name="loan")
    history = HistoricalRecords()
    checks_validated_elsewhere = frozenset({"loan_status_valid", "loan_end_after_start"})

    class Meta:
        verbose_name = _("loan")
        verbose_name_plural = _("loans")
        ordering = ["-starts_on", "-id"]
        permissions = [("move_loan", _("Can start, extend, return and close loans"))]
        # The list's order (newest first), alone and under the status filter: a page is read from the index
        # instead of sorting every open loan (0.5 s at 1.5 million loans).
        indexes = [models.Index(fields=["status", "planned_end_on"], name="loan_status_end_idx"),
                   models.Index(fields=["status", "-starts_on", "-id"], name="loan_status_start_idx"),
                   models.Index(fields=["-starts_on", "-id"], name="loan_start_idx")]
        constraints = [
            models.CheckConstraint(condition=models.Q(planned_end_on__gte=models.F("starts_on")),
                                   name="loan_end_after_start"),
            models.CheckConstraint(condition=models.Q(status__in=LoanStatus.values), name="loan_status_valid"),
        ]

    def __str__(self) -> str:
        return _("Loan %(id)s to %(recipient)s") % {"id": self.pk, "recipient": self.recipient}

    def clean(self) -> None:
        if self.starts_on and self.planned_end_on and self.planned_end_on < self.starts_on:
            raise ValidationError({"planned_end_on": _("The loan cannot end before it starts.")})

    @property
    def is_overdue(self) -> bool:
        return self.status == LoanStatus.OPEN and self.planned_end_on < timezone.localdate()


class LoanItem(models.Model):
    """A device in a loan. `is_open` is true while the recipient holds it: at most one per device."""

    loan = models.ForeignKey(Loan, on_delete=models.PROTECT, related_name="items", verbose_name=_("loan"))
    device = models.ForeignKey(Device, on_delete=models.PROTECT, related_name="loan_items",
                               verbose_name=_("device"))
    is_open = models.BooleanField(_("held by the recipient"), default=True)
    closed_on = models.DateField(_("closed on"), null=True, blank=True)

    class Meta:
        verbose_name = _("loaned device")
        verbose_name_plural = _("loaned devices")
        constraints = [
            models.UniqueConstraint(fields=["device"], condition=models.Q(is_open=True),
                                    name="one_open_loan_per_device",
                                    violation_error_message=_("This device is already on an open loan.")),
            models.UniqueConstraint(fields=["loan", "device"], name="loan_item_unique"),
        ]

    def __str__(self) -> str:
        return str(self.device)


class LoanAccessory(models.Model):
    """An accessory handed over with the loan; at return, what came back is recorded beside it."""

    loan = models.ForeignKey(Loan, on_delete=models.PROTECT, related_name="accessories", verbose_name=_("loan"))
    kind = models.CharField(_("kind"), max_length=20, choices=AccessoryKind.choices)
    description = models.CharField(_("description"), max_length=200, blank=True)
    quantity = models.PositiveSmallIntegerField(_("quantity"), default=1, validators=[MinValueValidator(1)])
    returned_quantity = models.PositiveSmallIntegerField(_("returned"), null=True, blank=True)

    class Meta:
        verbose_name = _("accessory")
        verbose_name_plural = _("accessories")
        constraints = [
            models.CheckConstraint(condition=models.Q(quantity__gte=1), name="accessory_quantity_positive"),
            models.CheckConstraint(
                condition=models.Q(returned_quantity__isnull=True) | models.Q(returned_quantity__lte=models.F("quantity")),
                name="accessory_returned_not_more"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ×{self.quantity}"


class LoanSetupStep(models.Model):
    """One step of preparing the loaned devices for their user, with who did it and when."""

    loan = models.ForeignKey(Loan, on_delete=models.PROTECT, related_name="setup_steps", verbose_name=_("loan"))
    step = models.CharField(_("step"), max_length=40, choices=SetupStep.choices)
    done_on = models.DateField(_("done on"))
    done_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                related_name="+", verbose_name=_("done by"))
    note = models.CharField(_("note"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("set-up step")
        verbose_name_plural = _("set-up steps")
        ordering = ["done_on", "id"]
        constraints = [models.UniqueConstraint(fields=["loan", "step"], name="loan_setup_step_once")]

    def __str__(self) -> str:
        return f"{self.get_step_display()} ({self.done_on:%d.%m.%Y})"


class LoanFinding(models.Model):
    """Something wrong found at return (a missing charger, damage). Stays open until settled."""

    loan = models.ForeignKey(Loan, on_delete=models.PROTECT, related_name="findings", verbose_name=_("loan"))
    description = models.TextField(_("description"))
    status = models.CharField(_("status"), max_length=20, choices=FindingStatus.choices, default=FindingStatus.OPEN)
    found_on = models.DateField(_("found on"))
    settled_on = models.DateField(_("settled on"), null=True, blank=True)
    settled_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+", verbose_name=_("settled by"))
    settlement = models.TextField(_("how it was settled"), blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("finding")
        verbose_name_plural = _("findings")
        ordering = ["-found_on", "-id"]

    def __str__(self) -> str:
        return self.description[:80]


class LoanEvent(models.Model):
    """One step of a loan's life: started, extended, moved with the term, returned, lost, ..."""

    loan = models.ForeignKey(Loan, on_delete=models.PROTECT, related_name="events", verbose_name=_("loan"))
    kind = models.CharField(_("kind"), max_length=30, choices=LoanEventKind.choices)
    occurred_at = models.DateTimeField(_("when"), default=timezone.now)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
                              related_name="+", verbose_name=_("who"))
    from_status = models.CharField(_("from"), max_length=20, choices=LoanStatus.choices, blank=True)
    to_status = models.CharField(_("to"), max_length=20, choices=LoanStatus.choices)
    reason = models.TextField(_("reason"), blank=True)
    planned_end_before = models.DateField(_("planned end before"), null=True, blank=True)
    planned_end_after = models.DateField(_("planned end after"), null=True, blank=True)
    request_id = models.CharField(_("request id"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("loan event")
        verbose_name_plural = _("loan events")
        ordering = ["-occurred_at", "-id"]

    def __str__(self) -> str:
        return f"{self.loan_id}: {self.get_kind_display()}"
