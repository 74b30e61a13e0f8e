"""Choices of grant projects, orders, transfers, donations and scrapping, with their transition tables."""
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class BeneficiaryKind(models.TextChoices):
    HOUSEHOLD = "household", _("household with a pupil")
    SCHOOL = "school", _("school")
    CARE_CENTRE = "care_centre", _("therapy or care centre")
    NGO = "ngo", _("non-governmental organisation")
    OTHER = "other", pgettext_lazy("beneficiary kind", "other")


class ObligationKind(models.TextChoices):
    SERVICING = "servicing", _("servicing of the equipment")
    INTERNET = "internet", _("internet access")
    OTHER = "other", pgettext_lazy("obligation kind", "other")


class OrderKind(models.TextChoices):
    FREE_TRANSFER = "free_transfer", _("free transfer of ownership")
    LIQUIDATION = "liquidation", _("liquidation")
    SALE = "sale", _("sale")
    DONATION = "donation", _("donation")
    OTHER = "other", pgettext_lazy("order kind", "other")


# The kinds of order under which a device may be given away free of charge, and scrapped.
TRANSFER_ORDER_KINDS = frozenset({OrderKind.FREE_TRANSFER, OrderKind.DONATION})
LIQUIDATION_ORDER_KINDS = frozenset({OrderKind.LIQUIDATION})


class TransferStatus(models.TextChoices):
    DRAFT = "draft", _("draft")
    SUBMITTED = "submitted", _("submitted for legal review")
    APPROVED = "approved", _("approved")
    REJECTED = "rejected", _("rejected")
    COMPLETED = "completed", _("completed")
    CANCELLED = "cancelled", _("cancelled")


T = TransferStatus

# A rejected transfer is final: the legal office's reasons stand, and a corrected transfer is a new one.
TRANSFER_TRANSITIONS: dict[str, frozenset[str]] = {
    T.DRAFT: frozenset({T.SUBMITTED, T.CANCELLED}),
    T.SUBMITTED: frozenset({T.APPROVED, T.REJECTED, T.CANCELLED}),
    T.APPROVED: frozenset({T.COMPLETED, T.CANCELLED}),
    T.REJECTED: frozenset(),
    T.COMPLETED: frozenset(),
    T.CANCELLED: frozenset(),
}

# A transfer in one of these states holds its devices: no other transfer may take them.
TRANSFER_OPEN = frozenset({T.DRAFT, T.SUBMITTED, T.APPROVED})


class TransferEventKind(models.TextChoices):
    CREATED = "created", _("created")
    SUBMITTED = "submitted", _("submitted for legal review")
    APPROVED = "approved", _("approved")
    OVERRIDDEN = "overridden", _("approved with an override")
    REJECTED = "rejected", _("rejected")
    COMPLETED = "completed", _("completed")
    CANCELLED = "cancelled", _("cancelled")


class LegalCheck(models.TextChoices):
    """The checks of a transfer, in the order the legal office reads them."""

    ORDER_IN_FORCE = "order_in_force", _("the order is in force on the transfer date")
    ORDER_KIND = "order_kind", _("the order's kind allows a free transfer")
    IN_ANNEX = "in_annex", _("the device or its beneficiary is in the order's annex")
    RECIPIENT_MATCHES = "recipient_matches", _("the recipient is the beneficiary who holds the device")
    DURABILITY_OVER = "durability_over", _("the project's durability period is over")
    DATA_GONE = "data_gone", _("the device is sanitized, or the beneficiary exception applies")
    AVAILABLE = "available", _("the device is not lost, gone, or on loan to someone else")


# What a lawyer may override with reasons. Data leaving the office and a device that is not there to be
# handed over are facts, not matters of legal judgement: never overridden.
OVERRIDABLE_CHECKS = frozenset({
    LegalCheck.ORDER_IN_FORCE, LegalCheck.ORDER_KIND, LegalCheck.IN_ANNEX, LegalCheck.RECIPIENT_MATCHES,
    LegalCheck.DURABILITY_OVER,
})


class DonationStatus(models.TextChoices):
    OFFERED = "offered", _("offered")
    ACCEPTED = "accepted", _("accepted")
    REFUSED = "refused", _("refused")


DONATION_TRANSITIONS: dict[str, frozenset[str]] = {
    DonationStatus.OFFERED: frozenset({DonationStatus.ACCEPTED, DonationStatus.REFUSED}),
    DonationStatus.ACCEPTED: frozenset(),
    DonationStatus.REFUSED: frozenset(),
}


class LegalSource(models.TextChoices):
    INVOICE = "invoice", _("invoice or receipt")
    GIFT = "gift", _("gift deed")
    EMPLOYER = "employer", _("bought out from an employer")
    OTHER = "other", pgettext_lazy("legal source", "other document")


# The waste catalogue code of discarded equipment other than that in 16 02 09 to 16 02 13: what
# computers, laptops and tablets without hazardous components are handed over as.
DEFAULT_WASTE_CODE = "16 02 14"
