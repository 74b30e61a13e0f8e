"""Forms of the donations admin. They only shape the input: donations.services decide whether a project,
a beneficiary, an order, a transfer, a donation or a liquidation may be recorded, and their refusals are
put back on the form beside the field they name (wipe.forms.ServiceModelForm)."""
from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.admin.widgets import AdminDateWidget, FilteredSelectMultiple
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from assets.choices import DEVICE_GONE, DeviceStatus, MediumKind
from assets.models import Device, Kit
from core import uploads
from donations.choices import (
    DEFAULT_WASTE_CODE,
    LIQUIDATION_ORDER_KINDS,
    TRANSFER_OPEN,
    BeneficiaryKind,
)
from donations.models import (
    Beneficiary,
    DonationOffer,
    GrantProject,
    Liquidation,
    MayoralOrder,
    ProjectObligation,
    Transfer,
)
from wipe.forms import ServiceModelForm, device_label

# The order of the fields on the pages, as the paper documents read; each list is exactly what its service
# accepts (donations.services.*_FIELDS), which a test checks.
PROJECT_FORM_FIELDS = ["name", "programme", "agreement_number", "starts_on", "ends_on", "final_payment_on",
                       "durability_years", "manager", "notes"]
CONTACT_FORM_FIELDS = ["name", "address", "email", "phone"]
BENEFICIARY_FORM_FIELDS = ["code", "kind", "eligibility_basis", "eligibility_document", "eligibility_reference",
                           "qualified_on", "is_active", "notes"]
ORDER_FORM_FIELDS = ["number", "signed_on", "signatory", "title", "legal_basis", "kind", "in_force_from",
                     "in_force_until", "project", "scan", "notes"]
OFFER_FORM_FIELDS = ["donor_name", "donor_contact", "offered_on", "kind", "manufacturer", "model", "serial_number",
                     "description", "legal_source", "legal_source_reference", "legal_source_document",
                     "software_licences", "free_of_charge_declared"]
LIQUIDATION_FORM_FIELDS = ["handed_over_on", "collector_name", "collector_bdo", "kpo_number", "waste_code", "mass_kg",
                           "kpo_scan", "notes"]

MONTH_INPUT_FORMATS = ["%m.%Y", "%m/%Y", "%Y-%m", "%d.%m.%Y", "%Y-%m-%d"]


def _date_field(label, **kwargs) -> forms.DateField:
    return forms.DateField(label=label, widget=AdminDateWidget, **kwargs)


def _text_field(label, *, required: bool = True, rows: int = 3, help_text="") -> forms.CharField:
    return forms.CharField(label=label, required=required, help_text=help_text,
                           widget=forms.Textarea(attrs={"rows": rows, "cols": 60}))


def _devices_field(label, queryset, help_text="", required: bool = False) -> forms.ModelMultipleChoiceField:
    field = forms.ModelMultipleChoiceField(label=label, queryset=queryset, required=required, help_text=help_text,
                                           widget=FilteredSelectMultiple(label, is_stacked=False))
    field.label_from_instance = device_label
    return field


def _kits_field(label, queryset, help_text="") -> forms.ModelMultipleChoiceField:
    return forms.ModelMultipleChoiceField(label=label, queryset=queryset, required=False, help_text=help_text,
                                          widget=FilteredSelectMultiple(label, is_stacked=False))


def file_value(value):
    """A cleared file field is False in Django forms; the services store '' for no file."""
    return "" if value is False else value


def service_data(form: forms.Form, names) -> dict[str, Any]:
    """The form's cleaned values for `names` (those it has), ready for a service."""
    return {name: file_value(form.cleaned_data[name]) for name in names if name in form.cleaned_data}


def devices_in_the_register():
    return Device.objects.exclude(status__in=DEVICE_GONE).order_by("inventory_number")


def kits_with_devices():
    return Kit.objects.filter(devices__isnull=False).distinct().order_by("code")


# --- grant projects and beneficiaries --------------------------------------------------------------

class ProjectForm(ServiceModelForm):
    """A grant project; its durability end is computed by the model from the final payment."""

    class Meta:
        model = GrantProject
        fields = PROJECT_FORM_FIELDS


class ProjectDevicesForm(forms.Form):
    """Devices (or whole kits) the project bought."""

    devices = _devices_field(_("Devices"), Device.objects.none(),
                             help_text=_("Devices in the register that belong to no project yet."))
    kits = _kits_field(_("Kits"), Kit.objects.none(), help_text=_("Every device of the kit is added."))

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["devices"].queryset = devices_in_the_register().filter(project_device__isnull=True)
        self.fields["kits"].queryset = kits_with_devices()


class BeneficiaryForm(ServiceModelForm):
    """A beneficiary with its name, address and contact, which are kept on its loan recipient."""

    name = forms.CharField(label=_("name"), max_length=255,
                           help_text=_("Of the household (a parent's name), the school or the centre."))
    address = forms.CharField(label=_("address"), max_length=255, required=False)
    email = forms.EmailField(label=_("e-mail"), required=False)
    phone = forms.CharField(label=_("phone"), max_length=40, required=False)

    class Meta:
        model = Beneficiary
        fields = ["project", *BENEFICIARY_FORM_FIELDS]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            recipient = self.instance.recipient
            for name in CONTACT_FORM_FIELDS:
                if name in self.fields:
                    self.fields[name].initial = getattr(recipient, name)


class AllocateForm(forms.Form):
    """A project's set lent to one beneficiary for the durability period."""

    kit = forms.ModelChoiceField(label=_("Kit"), queryset=Kit.objects.none(),
                                 help_text=_("Kits of the beneficiary's project whose devices are all in stock."))
    starts_on = _date_field(_("Handed over on"), initial=timezone.localdate)
    condition_at_handover = _text_field(_("Condition at handover"), required=False, rows=2,
                                        help_text=_("Empty: new, complete, in working order."))
    notes = _text_field(_("Notes"), required=False, rows=2)

    def __init__(self, *args, beneficiary: Beneficiary, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        outside = Device.objects.filter(kit__isnull=False).filter(
            ~Q(status=DeviceStatus.IN_STOCK) | ~Q(project_device__project_id=beneficiary.project_id)
            | Q(project_device__isnull=True))
        self.fields["kit"].queryset = (
            kits_with_devices().filter(devices__project_device__project_id=beneficiary.project_id)
            .exclude(pk__in=outside.values("kit")))


# --- obligations -----------------------------------------------------------------------------------

class ObligationForm(ServiceModelForm):
    class Meta:
        model = ProjectObligation
        fields = ["project", "kind", "description", "applies_to", "starts_on", "ends_on"]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if "starts_on" in self.fields:
            self.fields["starts_on"].required = False
            self.fields["starts_on"].help_text = _("Empty: from the project's final payment.")
        if "ends_on" in self.fields:
            self.fields["ends_on"].required = False
            self.fields["ends_on"].help_text = _("Empty: until the end of the durability period.")


class RecordMonthForm(forms.Form):
    """One proof for one month of an obligation, for every beneficiary it applies to."""

    month = forms.DateField(label=_("Month"), input_formats=MONTH_INPUT_FORMATS,
                            help_text=_("For example 03.2019; any day of the month may be given."))
    proof_reference = forms.CharField(label=_("Proof"), max_length=255,
                                      help_text=_("Invoice number, service report, or another document."))
    note = forms.CharField(label=_("Note"), max_length=255, required=False)


# --- mayoral orders --------------------------------------------------------------------------------

class OrderForm(ServiceModelForm):
    class Meta:
        model = MayoralOrder
        fields = ORDER_FORM_FIELDS


class AnnexImportForm(forms.Form):
    file = forms.FileField(
        label=_("Annex (CSV or XLSX)"), validators=[uploads.validate_size],
        help_text=_("A column of inventory numbers („numer inwentarzowy”) or of beneficiary codes („beneficjent”), "
                    "one a line."))
    dry_run = forms.BooleanField(label=_("Only check, add nothing"), required=False,
                                 help_text=_("Shows what the annex would add and every line in error."))


# --- transfers -------------------------------------------------------------------------------------

def devices_to_transfer(transfer: Transfer | None = None):
    """Devices that can be given away (on loan, retired or sanitized) and are in no other open transfer;
    with a draft, its own devices too, whatever they are now (the legal check says what is wrong)."""
    busy = Device.objects.filter(transfer_items__transfer__status__in=TRANSFER_OPEN)
    if transfer is not None:
        busy = busy.exclude(transfer_items__transfer=transfer)
    offered = (Q(status__in=[DeviceStatus.ON_LOAN, DeviceStatus.RETIRED, DeviceStatus.SANITIZED])
               & ~Q(pk__in=busy.values("pk")))
    if transfer is not None:
        offered |= Q(pk__in=transfer.items.values("device_id"))
    return Device.objects.filter(offered).order_by("inventory_number")


class TransferForm(ServiceModelForm):
    """A draft transfer: the order, the recipient, the date, and the devices or whole kits."""

    devices = _devices_field(_("devices"), Device.objects.none(),
                             help_text=_("Devices on loan, retired or sanitized, in no other open transfer."))
    kits = _kits_field(_("kits"), Kit.objects.none(), help_text=_("Every device of the kit is transferred."))

    class Meta:
        model = Transfer
        fields = ["order", "recipient", "transfer_date", "devices", "kits", "notes"]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        transfer = self.instance if self.instance.pk else None
        self.fields["devices"].queryset = devices_to_transfer(transfer)
        self.fields["kits"].queryset = kits_with_devices()
        if transfer is not None:
            self.fields["devices"].initial = list(transfer.items.values_list("device_id", flat=True))


class ApproveForm(forms.Form):
    """The legal office's approval; the override is offered only to whoever may give one."""

    reason = _text_field(_("Reasons of the decision"), required=False, rows=2)
    override_reason = _text_field(
        _("Reasoned override"), required=False,
        help_text=_("Only when a check a lawyer may weigh fails (annex, order, recipient, durability): why the "
                    "transfer is lawful nonetheless. Printed on the protocol."))

    def __init__(self, *args, may_override: bool = False, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if not may_override:
            del self.fields["override_reason"]


class ReasonForm(forms.Form):
    reason = _text_field(_("Reasons"))


class ConfirmForm(forms.Form):
    """A move without input (submit, complete): the button is the confirmation."""


class TransfersForProjectForm(forms.Form):
    """One transfer per beneficiary of a project, of the project's devices each holds now."""

    order = forms.ModelChoiceField(label=_("Mayoral order"), queryset=MayoralOrder.objects.order_by("-signed_on", "number"))
    project = forms.ModelChoiceField(label=_("Grant project"), queryset=GrantProject.objects.order_by("name"))
    transfer_date = _date_field(_("Transfer date"))
    kinds = forms.MultipleChoiceField(label=_("Beneficiaries of kind"), choices=BeneficiaryKind.choices,
                                      required=False, widget=forms.CheckboxSelectMultiple,
                                      help_text=_("None chosen: every active beneficiary of the project."))
    submit = forms.BooleanField(label=_("Submit each transfer for legal review at once"), required=False)

    def __init__(self, *args, may_submit: bool = True, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if not may_submit:  # submitting is a move of transfers (donations.move_transfer)
            del self.fields["submit"]


# --- donations from residents ----------------------------------------------------------------------

class DonationOfferForm(ServiceModelForm):
    class Meta:
        model = DonationOffer
        fields = OFFER_FORM_FIELDS


class DonationAcceptForm(forms.Form):
    """The device enters the register, with the storage medium found inside it (if any)."""

    inventory_number = forms.CharField(label=_("Inventory number"), max_length=50)
    location = forms.CharField(label=_("Location"), max_length=200, required=False)
    medium_kind = forms.ChoiceField(label=_("Storage medium"), required=False,
                                    choices=[("", _("none found")), *MediumKind.choices])
    medium_capacity_gb = forms.IntegerField(label=_("Capacity (GB)"), required=False, min_value=1)
    medium_serial_number = forms.CharField(label=_("Serial number of the medium"), max_length=100, required=False)
    reason = _text_field(_("Verification notes"), required=False, rows=2)

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("medium_kind") and not cleaned.get("medium_capacity_gb"):
            self.add_error("medium_capacity_gb", _("Give the capacity of the storage medium."))
        return cleaned

    def service_kwargs(self) -> dict[str, Any]:
        data = self.cleaned_data
        media = []
        if data["medium_kind"]:
            media.append({"kind": data["medium_kind"], "capacity_gb": data["medium_capacity_gb"],
                          "serial_number": data["medium_serial_number"]})
        return {"inventory_number": data["inventory_number"], "location": data["location"], "media": media,
                "reason": data["reason"]}


# --- scrapping -------------------------------------------------------------------------------------

class LiquidationForm(ServiceModelForm):
    """E-waste handed to an authorised collector under a liquidation order."""

    devices = _devices_field(_("devices"), Device.objects.none(), required=True,
                             help_text=_("Retired or sanitized devices; each must be sanitized and listed in the "
                                         "order's annex."))

    class Meta:
        model = Liquidation
        fields = ["order", "devices", *LIQUIDATION_FORM_FIELDS]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if "devices" in self.fields:
            self.fields["devices"].queryset = Device.objects.filter(
                status__in=[DeviceStatus.RETIRED, DeviceStatus.SANITIZED]).order_by("inventory_number")
        if "order" in self.fields:
            self.fields["order"].queryset = (MayoralOrder.objects.filter(kind__in=LIQUIDATION_ORDER_KINDS)
                                             .order_by("-signed_on", "number"))
        if "waste_code" in self.fields:
            self.fields["waste_code"].initial = DEFAULT_WASTE_CODE
