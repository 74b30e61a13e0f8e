from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PortalConfig(AppConfig):
    """The borrowers' portal (/my/): a councillor's loans, devices, documents and fault reports."""

    name = "portal"
    verbose_name = _("Borrowers' portal")
