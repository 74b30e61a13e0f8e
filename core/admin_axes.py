"""django-axes' record of failed sign-ins in the admin, with its clean-up made to work and leave a trace.

The IT office may delete an attempt record (that unlocks a user name at once) and may clean up the expired
ones. django-axes' own clean-up action reads the time of "the current sign-in attempt" off the request,
which only a sign-in request carries, so from the admin it failed with a server error; and it deleted the
records without noting who did. Here it works from any admin request, needs the delete permission like
`delete_selected`, and writes the admin's log entry (who deleted which records) before it deletes.
"""
from __future__ import annotations

from axes.admin import AccessAttemptAdmin as AxesAccessAttemptAdmin
from axes.conf import settings as axes_settings
from axes.helpers import get_cool_off
from axes.models import AccessAttempt
from django.contrib import admin, messages
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

admin.site.unregister(AccessAttempt)


@admin.register(AccessAttempt)
class AccessAttemptAdmin(AxesAccessAttemptAdmin):
    @admin.action(description=_("Clean up expired attempts"), permissions=["delete"])
    def cleanup_expired_attempts(self, request, queryset):
        """Delete every expired attempt record (whatever is selected, as django-axes does), logged first."""
        now = timezone.now()
        if axes_settings.AXES_USE_ATTEMPT_EXPIRATION:
            expired = AccessAttempt.objects.filter(expiration__expires_at__lte=now)
        else:
            cool_off = get_cool_off(request)
            expired = AccessAttempt.objects.filter(attempt_time__lte=now - cool_off) if cool_off else None
        records = list(expired) if expired is not None else []
        if records:
            self.log_deletions(request, records)
            AccessAttempt.objects.filter(pk__in=[record.pk for record in records]).delete()
        self.message_user(request, ngettext("%(count)d expired access attempt deleted.",
                                            "%(count)d expired access attempts deleted.", len(records))
                          % {"count": len(records)}, messages.SUCCESS)
