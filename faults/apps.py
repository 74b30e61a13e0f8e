from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FaultsConfig(AppConfig):
    """Fault reports (zgłoszenia usterek) on loaned devices, from the holder to the IT office."""

    name = "faults"
    verbose_name = _("Fault reports")

    def ready(self) -> None:
        from django.db.models import Q

        from core.scoping import register_holder_scope
        from faults.models import FaultReport

        # A holder sees the faults they reported; the IT office sees all (faults.view_faultreport).
        register_holder_scope(FaultReport, lambda user: Q(reporter=user))

        from faults.privacy import register as register_privacy

        register_privacy()
