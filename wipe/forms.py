"""Forms of the wipe app's admin. They only shape the input: wipe.services (and wipe.fitness through it)
decide whether a wipe, a removal or a session may be recorded, and their refusals are put back on the
form beside the field they name."""
from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib.admin.widgets import AdminDateWidget, AdminSplitDateTime, FilteredSelectMultiple
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from assets.choices import DEVICE_GONE, DeviceStatus
from assets.models import Device, StorageMedium
from core.exceptions import DomainError
from wipe.choices import Destination, DestructionMethod, SessionStatus, Verification, VerificationResult
from wipe.models import DiskRemoval, Sanitization, WipeSession

# What a technician states about a wipe, in the order of the NIST SP 800-88 certificate. The rest of a
# record (status, validation, fitness) is written by the services only.
FACT_FIELDS = [
    "data_classification", "data_backed_up", "backup_location",
    "method_class", "technique", "overwrite_passes", "pattern", "encryption_enabled", "method_details", "tool",
    "tool_version", "started_at", "finished_at", "verification", "verification_result", "post_classification",
    "notes",
    "destination", "destination_details",
    "organization", "location", "performer_title", "performer_phone",
]

# The facts asked for when a result is recorded on a wipe session; the rest comes from the session.
SESSION_FACT_FIELDS = ["method_class", "technique", "overwrite_passes", "pattern", "encryption_enabled",
                       "verification", "verification_result", "destination", "started_at", "finished_at", "tool",
                       "tool_version"]

# Without these a passed wipe is no statement at all; the service judges the values themselves.
SESSION_FACTS_REQUIRED = ["method_class", "technique", "verification", "destination", "started_at", "finished_at"]


def refusal_text(exc: DomainError | ValidationError) -> str:
    """The text of a service's refusal, for a message."""
    return exc.message if isinstance(exc, DomainError) else "; ".join(exc.messages)


def add_refusal(form: forms.Form, exc: DomainError | ValidationError) -> str:
    """Put a service's refusal beside the field(s) it names, or on top of the form; return its text."""
    if isinstance(exc, DomainError):
        form.add_error(exc.field if exc.field in form.fields else None, exc.message)
    elif hasattr(exc, "error_dict"):
        for name, errors in exc.error_dict.items():
            target = name if name in form.fields and name != NON_FIELD_ERRORS else None
            form.add_error(target, ValidationError(errors).messages)
    else:
        form.add_error(None, exc.messages)
    return refusal_text(exc)


def medium_label(medium: StorageMedium) -> str:
    return f"{medium.device.inventory_number} · {medium.get_kind_display()} {medium.capacity_gb} GB · " \
           f"{medium.serial_number or '—'}"


def device_label(device: Device) -> str:
    return " ".join(filter(None, [device.inventory_number, "·", str(device.get_kind_display()), device.manufacturer,
                                  device.model]))


def media_inside_the_register():
    """Media still in their device, of devices that have not left the register: what may be wiped or
    taken out."""
    return (StorageMedium.objects.inside().exclude(device__status__in=DEVICE_GONE).select_related("device")
            .order_by("device__inventory_number", "id"))


def _split_datetime(label, *, required: bool, help_text="") -> forms.SplitDateTimeField:
    return forms.SplitDateTimeField(label=label, required=required, widget=AdminSplitDateTime,
                                    help_text=help_text)


class ServiceModelForm(forms.ModelForm):
    """A model form that writes nothing and validates nothing of the model: the admin hands its data to
    a service, which validates and saves. `refusal` is that service's refusal, set when the admin shows
    the form again after it, so that the reason stands beside its field."""

    refusal: DomainError | ValidationError | None = None

    def _post_clean(self) -> None:
        pass  # the model is validated by the service, with the rules of the domain

    def clean(self):
        cleaned = super().clean()
        if self.refusal is not None:
            add_refusal(self, self.refusal)
        return cleaned


# --- sanitization records --------------------------------------------------------------------------

class SanitizationForm(ServiceModelForm):
    """The technician's statement of a wipe (add, edit while it awaits validation, or a correction)."""

    class Meta:
        model = Sanitization
        fields = ["medium", *FACT_FIELDS, "correction_reason"]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if "medium" in self.fields:
            self.fields["medium"].label_from_instance = medium_label
            self.fields["medium"].help_text = _("Only media still inside their device. For a device that left the "
                                                "office (transferred or scrapped), record the proof of the wipe that "
                                                "its recipient or collector sent back.")
        if "organization" in self.fields:
            self.fields["organization"].required = False
            self.fields["organization"].help_text = _("Leave empty for %(name)s.") % {
                "name": settings.ORGANIZATION_NAME}
        if "overwrite_passes" in self.fields:
            self.fields["overwrite_passes"].help_text = _("Only for an overwrite.")
        if "correction_reason" in self.fields:
            self.fields["correction_reason"].required = True
            self.fields["correction_reason"].help_text = _(
                "What was wrong in the validated record. The correction supersedes it once it is validated "
                "by a second person; until then the old record counts.")


class ValidateForm(forms.Form):
    validator_title = forms.CharField(label=_("Your title"), max_length=100, required=False)
    validator_phone = forms.CharField(label=_("Your phone"), max_length=40, required=False)


class RejectForm(forms.Form):
    reason = forms.CharField(label=_("Why is the wipe rejected"), widget=forms.Textarea(attrs={"rows": 3, "cols": 60}))


# --- disk removal and custody ----------------------------------------------------------------------

class DiskRemovalForm(ServiceModelForm):
    """A medium taken out of its device: where it is kept and who holds it."""

    class Meta:
        model = DiskRemoval
        fields = ["medium", "kept_at", "held_by", "removed_at", "notes"]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if "medium" in self.fields:
            self.fields["medium"].label_from_instance = medium_label
            self.fields["medium"].help_text = _("Only media still inside a device that has not left the register.")
        if "removed_at" in self.fields:
            self.fields["removed_at"].required = False
            self.fields["removed_at"].help_text = _("Leave empty for now.")


class CustodyForm(forms.Form):
    kept_at = forms.CharField(label=_("Kept at"), max_length=200)
    handed_to = forms.CharField(label=_("Handed to"), max_length=200)
    at = _split_datetime(_("When"), required=False, help_text=_("Leave empty for now."))
    notes = forms.CharField(label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 2, "cols": 60}))


class DestructionForm(forms.Form):
    destroyed_on = forms.DateField(label=_("Destroyed on"), widget=AdminDateWidget, initial=timezone.localdate)
    destruction_method = forms.ChoiceField(label=_("Destruction method"), choices=DestructionMethod.choices)
    destruction_company = forms.CharField(label=_("Destroyed by (company)"), max_length=200)
    certificate_number = forms.CharField(label=_("Destruction certificate number"), max_length=100)
    certificate_scan = forms.FileField(label=_("Scan of the destruction certificate"), required=False,
                                       help_text=_("A PDF file."))


# --- wipe sessions ---------------------------------------------------------------------------------

def devices_for_a_session():
    """Retired devices that are not on an open session's cart."""
    return (Device.objects.filter(status=DeviceStatus.RETIRED)
            .exclude(wipe_session_entries__session__status=SessionStatus.OPEN)
            .order_by("inventory_number"))


class WipeSessionForm(ServiceModelForm):
    """A cart of retired devices to wipe together."""

    devices_to_wipe = forms.ModelMultipleChoiceField(
        label=_("Devices"), queryset=Device.objects.none(),
        widget=FilteredSelectMultiple(_("devices"), is_stacked=False),
        help_text=_("Only retired devices that are not in an open session are offered."))

    class Meta:
        model = WipeSession
        fields = ["location", "tool", "tool_version", "notes"]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if "devices_to_wipe" in self.fields:
            self.fields["devices_to_wipe"].queryset = devices_for_a_session()
            self.fields["devices_to_wipe"].label_from_instance = device_label


class SessionResultForm(ServiceModelForm):
    """The result for one medium on a session's cart: passed (with the facts of the wipe) or failed."""

    passed = forms.TypedChoiceField(
        label=_("Did the wipe pass?"), choices=[("1", _("yes, the wipe passed")), ("0", _("no, it failed"))],
        coerce=lambda value: value == "1", initial="1", widget=forms.RadioSelect)
    failure_reason = forms.CharField(label=_("How did it fail"), required=False,
                                     widget=forms.Textarea(attrs={"rows": 2, "cols": 60}))

    class Meta:
        model = Sanitization
        fields = ["medium", *SESSION_FACT_FIELDS]
        field_classes = {"started_at": forms.SplitDateTimeField, "finished_at": forms.SplitDateTimeField}
        widgets = {"started_at": AdminSplitDateTime, "finished_at": AdminSplitDateTime}

    def __init__(self, *args, session: WipeSession, **kwargs) -> None:
        kwargs.setdefault("prefix", "result")
        super().__init__(*args, **kwargs)
        self.order_fields(["medium", "passed", "failure_reason", *SESSION_FACT_FIELDS])
        self.fields["medium"].queryset = (StorageMedium.objects.inside()
                                          .filter(device__wipe_session_entries__session=session)
                                          .select_related("device").order_by("device__inventory_number", "id"))
        self.fields["medium"].label_from_instance = medium_label
        self.fields["verification_result"].initial = VerificationResult.PASSED
        for name in SESSION_FACT_FIELDS:
            self.fields[name].required = False
        # The session's tool, unless this medium was wiped with another one.
        self.fields["tool"].initial, self.fields["tool_version"].initial = session.tool, session.tool_version
        self.fields["tool"].help_text = _("Leave empty for the session's tool.")
        for name in SESSION_FACTS_REQUIRED:
            self.fields[name].help_text = _("Required when the wipe passed.")

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("passed"):
            for name in SESSION_FACTS_REQUIRED:
                if name in self.fields and cleaned.get(name) in (None, "") and name not in self.errors:
                    self.add_error(name, _("Required when the wipe passed."))
        return cleaned

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        kwargs = {"medium": data["medium"], "passed": data["passed"], "failure_reason": data["failure_reason"]}
        if data["passed"]:
            kwargs.update({name: data[name] for name in SESSION_FACT_FIELDS})
            for name in ("tool", "tool_version"):  # empty: the service takes the session's
                if not kwargs[name]:
                    del kwargs[name]
        return kwargs


class EvidenceImportForm(forms.Form):
    file = forms.FileField(label=_("Report of nwipe or ShredOS"),
                           help_text=_("The log (nwipe_log_*.txt) or the JSON report, as the tool wrote it."))
    destination = forms.ChoiceField(label=_("Destination of the media"), choices=Destination.choices,
                                    initial=Destination.LEAVES_OFFICE)
    verification = forms.ChoiceField(
        label=_("How nwipe verified"), required=False, choices=[("", "---------"), *Verification.choices],
        help_text=_("Only for a JSON report, which does not say; a log says it itself and this is ignored."))
    dry_run = forms.BooleanField(label=_("Only check, import nothing"), required=False,
                                 help_text=_("Shows what the report would record and what it leaves out."))


class SessionCloseForm(ValidateForm):
    """Closing validates every wipe recorded in the session: the closer is the second person."""


class SessionRetryForm(forms.Form):
    location = forms.CharField(label=_("Where the second attempt takes place"), max_length=200, required=False,
                               help_text=_("Leave empty for the same place."))


# --- devices to sanitize ---------------------------------------------------------------------------

class NoMediaForm(forms.Form):
    how_checked = forms.CharField(label=_("How did you check that the device holds no storage medium"),
                                  widget=forms.Textarea(attrs={"rows": 3, "cols": 60}))
