"""Admin of loans. Starting a loan, every move of it and every change of a council term's end call
loans.services, as the API does; a refusal is an error message on the list, never a 500.

Loans, findings and council terms are written only by services, so their change pages are read-only;
the writes are the add form of a loan and the actions with their intermediate forms.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.widgets import AdminDateWidget, FilteredSelectMultiple
from django.core.exceptions import ValidationError
from django.db.models import Count, Prefetch, Q, QuerySet
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from assets.admin import ServiceSavedAdmin
from assets.choices import DeviceStatus
from assets.models import Device, Kit
from core.admin import HistoryAdmin, ReadOnlyAdminMixin
from core.admin_privacy import PERSONAL_DATA_ACTIONS, PersonalDataAdminMixin
from core.admin_utils import run_service
from core.exceptions import DomainError
from loans import privacy, services
from loans.choices import AccessoryKind, LoanStatus, SetupStep
from loans.models import (
    CouncilTerm,
    Loan,
    LoanAccessory,
    LoanEvent,
    LoanFinding,
    LoanItem,
    LoanSetupStep,
    Recipient,
)

MOVE_PERMISSION = "loans.move_loan"
# Accessory rows on the form that starts a loan; a loan with more accessories is rare enough for the API.
ACCESSORY_ROWS = 4


def _date_field(label, **kwargs) -> forms.DateField:
    return forms.DateField(label=label, widget=AdminDateWidget, **kwargs)


def _text_field(label, *, required: bool = True, rows: int = 3) -> forms.CharField:
    return forms.CharField(label=label, required=required, widget=forms.Textarea(attrs={"rows": rows, "cols": 60}))


def _action_page(modeladmin, request, *, name: str, title, rows: Iterable[tuple[object, str, forms.Form | None]],
                 form: forms.Form | None = None, template: str = "admin/core/action_form.html") -> TemplateResponse:
    """The intermediate page of an action: the selected records (each with its own form, if any), one
    shared form, and the hidden fields that bring the selection back to the same action on submit."""
    rows = list(rows)
    media = modeladmin.media
    for each in [form, *(row_form for _obj, _label, row_form in rows)]:
        if each is not None:
            media += each.media
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": title,
        "rows": rows,
        "form": form,
        "media": media,
        "action_name": name,
        "action_checkbox_name": ACTION_CHECKBOX_NAME,
        "opts": modeladmin.model._meta,
    }
    return TemplateResponse(request, template, context)


def _form_action(*, name: str, label, form_class: type[forms.Form], call: Callable, done: Callable[[int], str],
                 prepare: Callable[[QuerySet], QuerySet] = lambda qs: qs, describe: Callable[[object], str] = str):
    """An action that asks for `form_class` once, then runs `call(obj, request, **cleaned_data)` for each
    selected record. Each call is its own transaction: a refused record is a message and stays as it was."""

    def action(modeladmin, request, queryset: QuerySet):
        objects = list(prepare(queryset).order_by("pk"))
        applying = "apply" in request.POST
        form = form_class(request.POST if applying else None)
        if applying and form.is_valid():
            count = 0
            for obj in objects:
                count += run_service(request, call, obj, request, **form.cleaned_data) is not None
            if count:
                messages.success(request, done(count))
            return None
        return _action_page(modeladmin, request, name=name, title=label, form=form,
                            rows=[(obj, describe(obj), None) for obj in objects])

    action.__name__ = name
    return admin.action(description=label, permissions=["move"])(action)


class MovePermissionMixin:
    """The moves of loans (and of what belongs to them) need loans.move_loan."""

    def has_move_permission(self, request) -> bool:
        return request.user.has_perm(MOVE_PERMISSION)


# --- recipients and council terms ------------------------------------------------------------------

def _anonymise_recipient(recipient: Recipient, *, by):
    return privacy.recipient_anonymise(recipient=recipient, by=by)


@admin.register(Recipient)
class RecipientAdmin(PersonalDataAdminMixin, ServiceSavedAdmin):
    list_display = ["name", "kind", "user", "email", "phone"]
    list_filter = ["kind"]
    search_fields = ["name", "email", "address", "phone", "user__username", "user__last_name"]
    list_select_related = ["user"]
    fields = ["kind", "name", "user", "address", "email", "phone", "notes"]
    create_service = services.recipient_create
    update_service = services.recipient_update
    update_kwarg = "recipient"
    # A borrower's personal data: the legal office's (loans.privacy).
    actions = PERSONAL_DATA_ACTIONS
    personal_data_export = privacy.recipient_export
    personal_data_anonymise = _anonymise_recipient
    personal_data_retention = privacy.recipient_retention_ends_on
    personal_data_name = "recipient"
    export_permission = "loans.export_personal_data_recipient"
    anonymise_permission = "loans.anonymise_recipient"


class TermEndForm(forms.Form):
    ends_on = _date_field(_("New end of the term"))
    reason = _text_field(_("Reason"), required=False)


def _change_term_end(term: CouncilTerm, request, *, ends_on, reason) -> CouncilTerm:
    return services.council_term_change_end(term=term, ends_on=ends_on, by=request.user, reason=reason)


def _describe_term(term: CouncilTerm) -> str:
    return gettext("%(term)s, ends on %(date)s, open loans: %(count)d") % {
        "term": term, "date": term.ends_on.strftime("%d.%m.%Y"), "count": term.open_loans}


@admin.register(CouncilTerm)
class CouncilTermAdmin(MovePermissionMixin, ServiceSavedAdmin):
    """Terms are added here; the end moves only through the action, which moves the open loans too."""

    list_display = ["__str__", "starts_on", "ends_on", "open_loan_count"]
    list_filter = ["council"]
    search_fields = ["council", "name"]
    fields = ["council", "name", "starts_on", "ends_on"]
    create_service = services.council_term_create
    actions = [
        _form_action(
            name="change_end", label=_("Change the end date"), form_class=TermEndForm, call=_change_term_end,
            prepare=lambda qs: qs.annotate(open_loans=Count("loans", filter=Q(loans__status=LoanStatus.OPEN))),
            describe=_describe_term,
            done=lambda n: ngettext("The end of %(count)d term was changed; its open loans moved with it.",
                                    "The end of %(count)d terms was changed; their open loans moved with them.",
                                    n) % {"count": n},
        ),
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(
            open_loans=Count("loans", filter=Q(loans__status=LoanStatus.OPEN)))

    @admin.display(description=_("open loans"), ordering="open_loans")
    def open_loan_count(self, obj: CouncilTerm) -> int:
        return obj.open_loans

    def has_change_permission(self, request, obj=None) -> bool:
        return False  # no update service: the end date changes through the action


# --- loans -----------------------------------------------------------------------------------------

class OverdueFilter(admin.SimpleListFilter):
    title = _("overdue")
    parameter_name = "overdue"

    def lookups(self, request, model_admin):
        return [("yes", _("Yes")), ("no", _("No"))]

    def queryset(self, request, queryset):
        overdue = Q(status=LoanStatus.OPEN, planned_end_on__lt=timezone.localdate())
        if self.value() == "yes":
            return queryset.filter(overdue)
        if self.value() == "no":
            return queryset.exclude(overdue)
        return queryset


def _accessory_row_fields() -> dict[str, forms.Field]:
    fields: dict[str, forms.Field] = {}
    for row in range(ACCESSORY_ROWS):
        fields[f"accessory_{row}_kind"] = forms.ChoiceField(
            label=_("Accessory"), required=False, choices=[("", "---------"), *AccessoryKind.choices])
        fields[f"accessory_{row}_description"] = forms.CharField(label=_("description"), required=False,
                                                                 max_length=200)
        fields[f"accessory_{row}_quantity"] = forms.IntegerField(label=_("quantity"), required=False, min_value=1,
                                                                 initial=1)
    return fields


class _LoanStartFormBase(forms.ModelForm):
    """The handover: who, why, what (a kit or devices in stock), until when, and the accessories.

    The form only shapes the input; loans.services.loan_start decides whether the loan may start."""

    devices = forms.ModelMultipleChoiceField(
        label=_("devices"), required=False,
        queryset=Device.objects.filter(status=DeviceStatus.IN_STOCK).order_by("inventory_number"),
        widget=FilteredSelectMultiple(_("devices"), is_stacked=False),
        help_text=_("Only devices in stock are offered. Choose devices or a kit, not both."),
    )

    class Meta:
        model = Loan
        fields = ["recipient", "purpose", "council_term", "kit", "starts_on", "planned_end_on",
                  "condition_at_handover", "notes"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "planned_end_on" in self.fields:
            self.fields["planned_end_on"].required = False
            self.fields["planned_end_on"].help_text = _("Leave empty to end the loan with the council term.")

    # (field, message) of a refusal by loan_start, set on the form shown again after it (see LoanAdmin).
    refusal: tuple[str | None, str] | None = None

    def clean(self):
        cleaned = super().clean()
        if self.refusal is not None:
            field, text = self.refusal
            self.add_error(field if field in self.fields else None, text)
        accessories = []
        for row in range(ACCESSORY_ROWS):
            kind = cleaned.get(f"accessory_{row}_kind")
            description = (cleaned.get(f"accessory_{row}_description") or "").strip()
            quantity = cleaned.get(f"accessory_{row}_quantity") or 1
            if not kind:
                if description:
                    self.add_error(f"accessory_{row}_kind", _("Choose what kind of accessory this is."))
                continue
            accessories.append({"kind": kind, "description": description, "quantity": quantity})
        cleaned["accessories"] = accessories
        return cleaned


LoanStartForm = type("LoanStartForm", (_LoanStartFormBase,), _accessory_row_fields())


class LoanInlineMixin(ReadOnlyAdminMixin):
    """The parts of a loan, shown on its page to whoever may see the loan; written only by services."""

    extra = 0
    show_change_link = False

    def has_view_permission(self, request, obj=None) -> bool:
        return super().has_view_permission(request, obj) or request.user.has_perm("loans.view_loan")


class LoanItemInline(LoanInlineMixin, admin.TabularInline):
    model = LoanItem
    fields = ["device", "device_status", "is_open", "closed_on"]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("device").order_by("device__inventory_number")

    @admin.display(description=_("device status"))
    def device_status(self, obj: LoanItem) -> str:
        return obj.device.get_status_display()


class LoanAccessoryInline(LoanInlineMixin, admin.TabularInline):
    model = LoanAccessory
    fields = ["kind", "description", "quantity", "returned_quantity"]
    readonly_fields = fields


class LoanSetupStepInline(LoanInlineMixin, admin.TabularInline):
    model = LoanSetupStep
    fields = ["step", "done_on", "done_by", "note"]
    readonly_fields = fields


class LoanFindingInline(LoanInlineMixin, admin.TabularInline):
    model = LoanFinding
    fields = ["description", "status", "found_on", "settled_on", "settled_by", "settlement"]
    readonly_fields = fields


class LoanEventInline(LoanInlineMixin, admin.TabularInline):
    model = LoanEvent
    fields = ["occurred_at", "kind", "from_status", "to_status", "reason", "planned_end_before", "planned_end_after",
              "actor"]
    readonly_fields = fields
    ordering = ["occurred_at", "id"]


class ExtendForm(forms.Form):
    planned_end_on = _date_field(_("New planned end"))
    reason = _text_field(_("Reason"), required=False)


class LostForm(forms.Form):
    reference = forms.CharField(label=_("Police report or incident number"), max_length=200)
    reason = _text_field(_("Reason"), required=False)


class SetupStepForm(forms.Form):
    step = forms.ChoiceField(label=_("Set-up step"), choices=SetupStep.choices)
    done_on = _date_field(_("Done on"), initial=timezone.localdate)
    note = forms.CharField(label=_("Note"), required=False, max_length=255)


class ReturnForm(forms.Form):
    """The return protocol of one loan: condition, date, how many of each accessory came back, findings."""

    condition = _text_field(_("Condition at return"))
    returned_on = _date_field(_("Returned on"), initial=timezone.localdate)
    findings = _text_field(_("Findings (one per line)"), required=False)

    def __init__(self, *args, loan: Loan, **kwargs):
        kwargs.setdefault("prefix", f"loan-{loan.pk}")
        super().__init__(*args, **kwargs)
        self.loan = loan
        self.accessories = list(loan.accessories.all())
        for accessory in self.accessories:
            label = " ".join(filter(None, [str(accessory.get_kind_display()), accessory.description]))
            # Only the type is checked here; how many may come back is loan_return's rule.
            self.fields[self._accessory_field(accessory)] = forms.IntegerField(
                label=gettext("%(accessory)s: returned (of %(quantity)d)")
                % {"accessory": label, "quantity": accessory.quantity},
                min_value=0, initial=accessory.quantity)
        # Findings last, after the accessory counts, as on the paper protocol.
        self.fields["findings"] = self.fields.pop("findings")

    @staticmethod
    def _accessory_field(accessory: LoanAccessory) -> str:
        return f"accessory_{accessory.pk}"

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        return {
            "condition": data["condition"],
            "returned_on": data["returned_on"],
            "accessories_returned": {a.pk: data[self._accessory_field(a)] for a in self.accessories},
            "findings": [line.strip() for line in data["findings"].splitlines() if line.strip()],
        }


def _describe_loan(loan: Loan) -> str:
    numbers = ", ".join(item.device.inventory_number for item in loan.items.all())
    return gettext("%(loan)s: %(devices)s, planned end %(date)s, %(status)s") % {
        "loan": loan, "devices": numbers or "—", "date": loan.planned_end_on.strftime("%d.%m.%Y"),
        "status": loan.get_status_display()}


def _loans_for_action(queryset: QuerySet[Loan]) -> QuerySet[Loan]:
    return queryset.select_related("recipient").prefetch_related(
        Prefetch("items", queryset=LoanItem.objects.select_related("device").order_by("device__inventory_number")),
        "accessories",
    )


def _extend(loan: Loan, request, *, planned_end_on, reason) -> Loan:
    return services.loan_extend(loan=loan, planned_end_on=planned_end_on, by=request.user, reason=reason)


def _mark_lost(loan: Loan, request, *, reference, reason) -> Loan:
    return services.loan_mark_lost(loan=loan, by=request.user, reference=reference, reason=reason)


def _record_setup_step(loan: Loan, request, *, step, done_on, note) -> LoanSetupStep:
    return services.loan_record_setup_step(loan=loan, step=step, done_on=done_on, by=request.user, note=note)


@admin.register(Loan)
class LoanAdmin(MovePermissionMixin, HistoryAdmin):
    list_display = ["id", "recipient", "purpose", "devices_or_kit", "starts_on", "planned_end_on", "status",
                    "overdue"]
    list_display_links = ["id", "recipient"]
    list_filter = ["status", "purpose", "council_term", OverdueFilter]
    search_fields = ["recipient__name", "items__device__inventory_number"]
    list_select_related = ["recipient", "kit"]
    date_hierarchy = "starts_on"
    autocomplete_fields = ["recipient"]
    form = LoanStartForm
    view_fields = ["recipient", "purpose", "council_term", "kit", "starts_on", "planned_end_on", "ended_on",
                   "status", "overdue", "condition_at_handover", "condition_at_return", "notes", "created_at",
                   "updated_at"]
    inlines = [LoanItemInline, LoanAccessoryInline, LoanSetupStepInline, LoanFindingInline, LoanEventInline]
    actions = [
        "loan_return",
        "loan_agreement_issue_missing",
        _form_action(name="loan_extend", label=_("Extend"), form_class=ExtendForm, call=_extend,
                     prepare=_loans_for_action, describe=_describe_loan,
                     done=lambda n: ngettext("%(count)d loan extended.", "%(count)d loans extended.", n)
                     % {"count": n}),
        _form_action(name="loan_mark_lost", label=_("Mark lost"), form_class=LostForm, call=_mark_lost,
                     prepare=_loans_for_action, describe=_describe_loan,
                     done=lambda n: ngettext("%(count)d loan marked lost.", "%(count)d loans marked lost.", n)
                     % {"count": n}),
        _form_action(name="loan_record_setup_step", label=_("Record set-up step"), form_class=SetupStepForm,
                     call=_record_setup_step, prepare=_loans_for_action, describe=_describe_loan,
                     done=lambda n: ngettext("Set-up step recorded for %(count)d loan.",
                                             "Set-up step recorded for %(count)d loans.", n) % {"count": n}),
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(device_count=Count("items"))

    # --- list columns ---

    @admin.display(description=_("devices"), ordering="device_count")
    def devices_or_kit(self, obj: Loan) -> str:
        if obj.kit_id:
            return gettext("kit %(code)s (%(count)d)") % {"code": obj.kit.code, "count": obj.device_count}
        return str(obj.device_count)

    @admin.display(description=_("overdue"), boolean=True)
    def overdue(self, obj: Loan) -> bool:
        return obj.is_overdue

    # --- add form (starts the loan) and read-only page ---

    def get_fieldsets(self, request, obj=None):
        if obj is not None:
            return [(None, {"fields": self.view_fields})]
        accessory_rows = [(f"accessory_{row}_kind", f"accessory_{row}_description", f"accessory_{row}_quantity")
                          for row in range(ACCESSORY_ROWS)]
        return [
            (None, {"fields": ["recipient", "purpose", "council_term"]}),
            (_("What is lent"), {"fields": ["kit", "devices"]}),
            (_("When"), {"fields": ["starts_on", "planned_end_on"]}),
            (_("Handover"), {"fields": ["condition_at_handover", "notes"]}),
            (_("Accessories handed over"), {"fields": accessory_rows}),
        ]

    def get_readonly_fields(self, request, obj=None):
        return self.view_fields if obj is not None else []

    def get_inline_instances(self, request, obj=None):
        return super().get_inline_instances(request, obj) if obj is not None else []

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "kit":
            # A kit can be lent only whole and only when every one of its devices is in stock.
            not_in_stock = Device.objects.filter(kit__isnull=False).exclude(status=DeviceStatus.IN_STOCK)
            kwargs["queryset"] = (Kit.objects.filter(devices__isnull=False)
                                  .exclude(pk__in=not_in_stock.values("kit")).distinct().order_by("code"))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is not None:
            kwargs["form"] = forms.ModelForm  # the page of an existing loan only shows it
        form_class = super().get_form(request, obj, change=change, **kwargs)
        refusal = getattr(request, "_loan_start_refusal", None)
        if obj is None and refusal is not None:
            form_class = type(form_class.__name__, (form_class,), {"refusal": refusal})
        return form_class

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except (DomainError, ValidationError) as exc:
            if object_id is not None:
                raise
            # loan_start refused; the view's transaction has rolled back, so nothing was written. Show the
            # reason as a message and the form again with what was typed, the reason beside its field.
            text = exc.message if isinstance(exc, DomainError) else "; ".join(exc.messages)
            messages.error(request, text)
            request._loan_start_refusal = (getattr(exc, "field", None), text)
            return super().changeform_view(request, object_id, form_url, extra_context)

    def save_model(self, request, obj, form, change) -> None:
        data = form.cleaned_data
        loan = services.loan_start(
            by=request.user, recipient=data["recipient"], purpose=data["purpose"],
            council_term=data["council_term"], kit=data["kit"], devices=list(data["devices"]) or None,
            starts_on=data["starts_on"], planned_end_on=data["planned_end_on"],
            condition_at_handover=data["condition_at_handover"], accessories=data["accessories"],
            notes=data["notes"],
        )
        obj.pk = loan.pk
        obj.refresh_from_db()

    def has_add_permission(self, request) -> bool:
        return request.user.has_perm(MOVE_PERMISSION)

    def has_change_permission(self, request, obj=None) -> bool:
        return False  # a loan changes only through its moves (the actions)

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    # --- the agreement of a loan imported without one ---

    @admin.action(description=_("Issue the missing loan agreement"), permissions=["move"])
    def loan_agreement_issue_missing(self, request, queryset: QuerySet[Loan]):
        """Each selected loan through loans.services.loan_agreement_issue_missing, in its own transaction;
        a loan that already has its agreement is an error message naming it and stays as it was."""
        codes = []
        for loan in queryset.order_by("pk"):
            document = run_service(request, services.loan_agreement_issue_missing, loan=loan, by=request.user)
            if document is not None:
                codes.append(document.code)
        if codes:
            messages.success(request, ngettext("Loan agreement issued: %(codes)s. Have the recipient sign it and "
                                               "keep the signed copy.",
                                               "Loan agreements issued: %(codes)s. Have the recipients sign them "
                                               "and keep the signed copies.", len(codes))
                             % {"codes": ", ".join(codes)})

    # --- return: one protocol per loan ---

    @admin.action(description=_("Return"), permissions=["move"])
    def loan_return(self, request, queryset: QuerySet[Loan]):
        loans = list(_loans_for_action(queryset).order_by("pk"))
        applying = "apply" in request.POST
        forms_ = [ReturnForm(request.POST if applying else None, loan=loan) for loan in loans]
        if applying and all([form.is_valid() for form in forms_]):  # validate every form, to show all errors
            count = 0
            for form in forms_:
                count += run_service(request, services.loan_return, loan=form.loan, by=request.user,
                                     **form.service_kwargs()) is not None
            if count:
                messages.success(request, ngettext("%(count)d loan returned; its devices are back in stock.",
                                                   "%(count)d loans returned; their devices are back in stock.",
                                                   count) % {"count": count})
            return None
        return _action_page(self, request, name="loan_return", title=_("Return"),
                            rows=[(form.loan, _describe_loan(form.loan), form) for form in forms_],
                            template="admin/loans/loan/return.html")


# --- findings --------------------------------------------------------------------------------------

class SettleForm(forms.Form):
    settlement = _text_field(_("How was it settled"))


def _settle(finding: LoanFinding, request, *, settlement) -> LoanFinding:
    return services.loan_finding_settle(finding=finding, by=request.user, settlement=settlement)


def _describe_finding(finding: LoanFinding) -> str:
    return gettext("%(loan)s: %(finding)s (%(status)s)") % {
        "loan": finding.loan, "finding": finding.description, "status": finding.get_status_display()}


@admin.register(LoanFinding)
class LoanFindingAdmin(MovePermissionMixin, ReadOnlyAdminMixin, HistoryAdmin):
    """What was wrong at a return; settled by the action, which records how and by whom."""

    list_display = ["description", "loan", "recipient", "status", "found_on", "settled_on", "settled_by"]
    list_filter = ["status", "found_on"]
    search_fields = ["description", "settlement", "loan__recipient__name", "loan__items__device__inventory_number"]
    list_select_related = ["loan__recipient", "settled_by"]
    date_hierarchy = "found_on"
    fields = ["loan", "description", "status", "found_on", "settled_on", "settled_by", "settlement"]
    readonly_fields = fields
    actions = [
        _form_action(name="settle", label=_("Settle"), form_class=SettleForm, call=_settle,
                     prepare=lambda qs: qs.select_related("loan__recipient"), describe=_describe_finding,
                     done=lambda n: ngettext("%(count)d finding settled.", "%(count)d findings settled.", n)
                     % {"count": n}),
    ]

    @admin.display(description=_("recipient"), ordering="loan__recipient__name")
    def recipient(self, obj: LoanFinding) -> Recipient:
        return obj.loan.recipient
