from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LoansConfig(AppConfig):
    """Loans for use (użyczenie): to councillors for council sessions, to households and schools."""

    name = "loans"
    verbose_name = _("Loans")
