"""Choices of loans, with the loan's own transition table beside them."""
from django.db import models
from django.utils.translation import gettext_lazy as _


class RecipientKind(models.TextChoices):
    COUNCILLOR = "councillor", _("councillor")
    HOUSEHOLD = "household", _("household")
    SCHOOL = "school", _("school")
    CARE_CENTRE = "care_centre", _("therapy or care centre")
    STAFF = "staff", _("staff member")
    INSTITUTION = "institution", _("other institution")


class LoanPurpose(models.TextChoices):
    COUNCIL_SESSIONS = "council_sessions", _("council sessions (eSesja)")
    GRANT_PROJECT = "grant_project", _("grant project")
    STAFF_WORK = "staff_work", _("staff work")


class LoanStatus(models.TextChoices):
    OPEN = "open", _("open")
    RETURNED = "returned", _("returned")
    LOST = "lost", _("lost")
    TRANSFERRED = "transferred", _("ended by transfer of ownership")


# A loan ends with the devices coming back, being lost, or passing into the holder's ownership under a
# mayoral order (the donations app's transfer), which never brings them back to stock.
LOAN_TRANSITIONS: dict[str, frozenset[str]] = {
    LoanStatus.OPEN: frozenset({LoanStatus.RETURNED, LoanStatus.LOST, LoanStatus.TRANSFERRED}),
    LoanStatus.RETURNED: frozenset(),
    LoanStatus.LOST: frozenset(),
    LoanStatus.TRANSFERRED: frozenset(),
}


class AccessoryKind(models.TextChoices):
    CHARGER = "charger", _("charger")
    CASE = "case", _("case")
    KEYBOARD = "keyboard", _("keyboard")
    MOUSE = "mouse", _("mouse")
    STYLUS = "stylus", _("stylus")
    SIM_CARD = "sim_card", _("SIM card")
    CABLE = "cable", _("cable")
    OTHER = "other", _("other accessory")


class SetupStep(models.TextChoices):
    """The Kielce set-up: the vendor creates accounts with temporary passwords, then training, then
    personalisation of each tablet before the first remote session."""

    ACCOUNTS_CREATED = "accounts_created", _("accounts created")
    TEMPORARY_PASSWORD_CHANGED = "temporary_password_changed", _("temporary password changed")
    TRAINING_ATTENDED = "training_attended", _("training attended")
    PERSONALISED = "personalised", _("personalised")


class LoanEventKind(models.TextChoices):
    STARTED = "started", _("started")
    EXTENDED = "extended", _("extended")
    TERM_MOVED = "term_moved", _("planned end moved with the council term")
    SETUP_STEP = "setup_step", _("set-up step recorded")
    RETURNED = "returned", _("returned")
    LOST = "lost", _("lost")
    FINDING_SETTLED = "finding_settled", _("finding settled")
    REPLACED = "replaced", _("device replaced")
    TRANSFERRED = "transferred", _("devices transferred to the holder")
    AGREEMENT_ISSUED = "agreement_issued", _("loan agreement issued late")


class FindingStatus(models.TextChoices):
    OPEN = "open", _("open")
    SETTLED = "settled", _("settled")
