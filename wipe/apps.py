from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WipeConfig(AppConfig):
    """Disk removal, custody and certified wipes (NIST SP 800-88, IEEE 2883): no data leaves the office."""

    name = "wipe"
    verbose_name = _("Data sanitization")
