from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = _("Documents")

    def ready(self) -> None:
        from core.roles import sync_roles_after_migrate

        post_migrate.connect(sync_roles_after_migrate, dispatch_uid="core.sync_roles")

        from core import imports, jobs

        jobs.register(imports.confirm_job_kind())

        from django.conf import settings
        from django.contrib import admin
        from django.utils.text import format_lazy

        # The admin is the office's working interface: it says whose register it is, not "Django".
        admin.site.site_header = format_lazy("{} — {}", settings.ORGANIZATION_NAME, _("device register"))
        admin.site.site_title = _("Device register")
        admin.site.index_title = _("Dashboard")
