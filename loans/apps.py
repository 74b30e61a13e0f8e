from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LoansConfig(AppConfig):
    """Loans for use (użyczenie): to councillors for council sessions, to households and schools."""

    name = "loans"
    verbose_name = _("Loans")

    def ready(self) -> None:
        from loans.selectors import register_holder_scopes

        register_holder_scopes()

        from loans.privacy import register as register_privacy

        register_privacy()
