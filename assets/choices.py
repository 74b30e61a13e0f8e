"""Choices of the register and the device lifecycle, with its transition table beside them."""
from django.db import models
from django.utils.translation import gettext_lazy as _


class DeviceKind(models.TextChoices):
    LAPTOP = "laptop", _("laptop")
    TABLET = "tablet", _("tablet")
    DESKTOP = "desktop", _("desktop computer")
    MONITOR = "monitor", _("monitor")
    ROUTER = "router", _("router / modem")
    PHONE = "phone", _("phone")
    OTHER = "other", _("other")


class DeviceStatus(models.TextChoices):
    IN_STOCK = "in_stock", _("in stock")
    IN_USE = "in_use", _("in use")
    ON_LOAN = "on_loan", _("on loan")
    IN_REPAIR = "in_repair", _("in repair")
    RETIRED = "retired", _("retired")
    SANITIZED = "sanitized", _("sanitized")
    TRANSFERRED = "transferred", _("transferred")
    SCRAPPED = "scrapped", _("scrapped")
    LOST = "lost", _("lost or stolen")


S = DeviceStatus

# The device lifecycle. A move not listed here is refused, whatever service is asked to make it.
# Moves into ON_LOAN, SANITIZED, TRANSFERRED and SCRAPPED are made by the loan, wipe and transfer
# services, which add their own guards (data gone, order in force, ...). ON_LOAN -> TRANSFERRED is the
# beneficiary exception: a household keeps the set it has held without a break since the last wipe.
DEVICE_TRANSITIONS: dict[str, frozenset[str]] = {
    S.IN_STOCK: frozenset({S.IN_USE, S.ON_LOAN, S.IN_REPAIR, S.RETIRED, S.LOST}),
    S.IN_USE: frozenset({S.IN_STOCK, S.IN_REPAIR, S.RETIRED, S.LOST}),
    S.ON_LOAN: frozenset({S.IN_STOCK, S.IN_REPAIR, S.TRANSFERRED, S.LOST}),
    S.IN_REPAIR: frozenset({S.IN_STOCK, S.IN_USE, S.ON_LOAN, S.RETIRED, S.LOST}),
    S.RETIRED: frozenset({S.SANITIZED, S.TRANSFERRED, S.SCRAPPED, S.LOST}),
    S.SANITIZED: frozenset({S.TRANSFERRED, S.SCRAPPED, S.LOST}),
    S.LOST: frozenset({S.IN_STOCK}),
    S.TRANSFERRED: frozenset(),
    S.SCRAPPED: frozenset(),
}

# States in which the office no longer holds the device.
DEVICE_GONE = frozenset({S.TRANSFERRED, S.SCRAPPED, S.LOST})


class RetirementReason(models.TextChoices):
    END_OF_LIFE = "end_of_life", _("past its expected life")
    DAMAGED = "damaged", _("damaged beyond economic repair")
    OBSOLETE = "obsolete", _("obsolete")
    TO_GIVE_AWAY = "to_give_away", _("to be given away (a donation passed on)")


class ManagedBy(models.TextChoices):
    IT_OFFICE = "it_office", _("IT office")
    VENDOR = "vendor", _("vendor")


class FundingSource(models.TextChoices):
    MAYORS_RESERVE = "mayors_reserve", _("mayor's special-purpose reserve")
    OWN_BUDGET = "own_budget", _("city budget")
    EU_FUNDS = "eu_funds", _("EU funds")
    NATIONAL_GRANT = "national_grant", _("national grant")
    DONATION = "donation", _("donation")
    OTHER = "other", _("other")


class MediumKind(models.TextChoices):
    HDD = "hdd", _("HDD")
    SSD = "ssd", _("SSD (SATA)")
    NVME = "nvme", _("NVMe")
    EMMC = "emmc", _("eMMC")
    FLASH_CARD = "flash_card", _("flash card")
    OTHER = "other", _("other")
