"""Forms of fault handling, shared by the admin and the portal; they shape input, services decide."""
from __future__ import annotations

from django import forms
from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _

from assets.choices import DeviceStatus
from assets.models import Device
from faults.choices import FaultCategory

MOVE_LABELS = {
    "acknowledge": _("Acknowledge"),
    "start-work": _("Start work"),
    "resolve": _("Resolve"),
    "replace": _("Replace the device"),
    "reject": _("Reject"),
    "reply": _("Only send the message"),
}


class FaultHandleForm(forms.Form):
    """What the IT office does with a fault: a move (or only a message), and what the reporter reads."""

    move = forms.ChoiceField(label=_("Action"))
    reply = forms.CharField(label=_("Message to the reporter"), widget=forms.Textarea(attrs={"rows": 3}),
                            required=False)
    take_into_repair = forms.BooleanField(label=_("Take the device into repair"), required=False,
                                          help_text=_("With “Start work”: the device leaves its holder for repair."))
    replacement = forms.ModelChoiceField(label=_("Replacement device"), required=False,
                                         queryset=Device.objects.none(),
                                         help_text=_("With “Replace the device”: a device in stock."))

    def __init__(self, *args, moves: list[str], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["move"].choices = [(name, MOVE_LABELS[name]) for name in [*moves, "reply"]]
        if "replace" in moves:
            self.fields["replacement"].queryset = Device.objects.filter(status=DeviceStatus.IN_STOCK).order_by(
                "kind", "inventory_number")
        else:
            del self.fields["replacement"]
        if "start-work" not in moves:
            del self.fields["take_into_repair"]


class FaultReportForm(forms.Form):
    """A councillor's report: which of their devices, what kind of fault, what happens, how to reach them."""

    device = forms.ModelChoiceField(label=_("Device"), queryset=Device.objects.none(), empty_label=None)
    category = forms.ChoiceField(label=_("What kind of fault"), choices=FaultCategory.choices,
                                 widget=forms.RadioSelect)
    description = forms.CharField(label=_("What happens"), widget=forms.Textarea(attrs={"rows": 5}))
    photo = forms.ImageField(label=_("Photo (optional)"), required=False)
    contact = forms.CharField(label=_("How can the IT office reach you?"), max_length=200,
                              help_text=_("A phone number or an e-mail address, and when you are available."))

    def __init__(self, *args, devices, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["device"].queryset = devices
        self.fields["photo"].help_text = _("JPEG, PNG or WebP, at most %(limit)s.") % {
            "limit": filesizeformat(settings.MAX_PHOTO_SIZE)}
        self.fields["device"].label_from_instance = lambda d: (
            f"{d.get_kind_display()} {d.manufacturer} {d.model} — {d.inventory_number}")


class MessageForm(forms.Form):
    body = forms.CharField(label=_("Your message"), widget=forms.Textarea(attrs={"rows": 3}))
