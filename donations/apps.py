from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DonationsConfig(AppConfig):
    """Grant projects, beneficiaries, mayoral orders and free transfers. Filled in by the donations issue."""

    name = "donations"
    verbose_name = _("Grant projects and transfers")

    def ready(self) -> None:
        from core.imports import register
        from donations.imports import BeneficiaryImporter, OrderAnnexImporter

        register(BeneficiaryImporter())
        register(OrderAnnexImporter())

        from donations.privacy import register as register_privacy

        register_privacy()

        from donations.jobs import register_jobs

        register_jobs()
