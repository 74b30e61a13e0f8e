"""The borrowers' portal (/my/): a councillor's loans, devices, documents and fault reports.

Server-rendered pages sized for a tablet. Every page reads through portal.selectors, which give only
what the signed-in person holds: anyone else's loan, device, fault or document is a 404, as if it did
not exist. Every write calls faults.services.
"""
from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from core import tokens
from core.api.privacy import personal_data_response
from core.exceptions import DomainError
from core.services import normalize_code
from core.storage import open_stream
from core.uploads import private_file_response
from faults import services as fault_services
from faults.forms import FaultReportForm, MessageForm
from loans.choices import LoanStatus
from loans.models import Recipient
from loans.privacy import recipient_export
from portal import selectors


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """What the person holds now and their fault reports: every open one, beside the device it concerns
    too, and the latest closed ones."""
    user = request.user
    loans = list(selectors.my_loans(user).filter(status=LoanStatus.OPEN))
    open_faults = list(selectors.my_open_faults(user))
    closed_faults = list(selectors.my_closed_faults(user)[:20])
    if not loans and not open_faults and not closed_faults and user.is_staff:
        return redirect("admin:index")  # office staff without loans of their own work in the admin
    by_device: dict[int, list] = {}
    for fault in open_faults:
        by_device.setdefault(fault.device_id, []).append(fault)
    devices_count = 0
    for loan in loans:
        for item in loan.items.all():  # prefetched: the attribute stays on the objects the template reads
            item.open_faults = by_device.get(item.device_id, [])
            devices_count += item.is_open
    return render(request, "portal/home.html", {
        "loans": loans,
        "devices_count": devices_count,
        "open_faults": open_faults,
        "closed_faults": closed_faults,
        "past_loans": selectors.my_loans(user).exclude(status=LoanStatus.OPEN),
    })


@login_required
def loan_detail(request: HttpRequest, pk: int) -> HttpResponse:
    loan = get_object_or_404(selectors.my_loans(request.user), pk=pk)
    return render(request, "portal/loan.html", {"loan": loan, "documents": selectors.loan_documents(loan)})


@login_required
def device_detail(request: HttpRequest, pk: int) -> HttpResponse:
    device = get_object_or_404(selectors.my_devices(request.user), pk=pk)
    return render(request, "portal/device.html", {
        "device": device,
        "loan": selectors.my_loans(request.user).filter(items__device=device, items__is_open=True).first(),
        "faults": selectors.my_faults(request.user).filter(device=device),
    })


@login_required
@require_http_methods(["GET", "POST"])
def fault_new(request: HttpRequest) -> HttpResponse:
    devices = selectors.my_devices(request.user)
    initial = {}
    if request.GET.get("device", "").isdigit():
        initial["device"] = get_object_or_404(devices, pk=request.GET["device"])
    form = FaultReportForm(request.POST or None, request.FILES or None, devices=devices, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            fault = fault_services.fault_report(by=request.user, **form.cleaned_data)
        except DomainError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(request, _("Thank you. Fault report %(id)s has reached the IT office.") % {"id": fault.pk})
            return redirect("portal:fault", pk=fault.pk)
    return render(request, "portal/fault_new.html", {"form": form, "has_devices": devices.exists()})


@login_required
def fault_detail(request: HttpRequest, pk: int) -> HttpResponse:
    fault = get_object_or_404(selectors.my_faults(request.user), pk=pk)
    return render(request, "portal/fault.html", {"fault": fault, "form": MessageForm()})


@login_required
@require_POST
def fault_reply(request: HttpRequest, pk: int) -> HttpResponse:
    fault = get_object_or_404(selectors.my_faults(request.user), pk=pk)
    form = MessageForm(request.POST)
    if form.is_valid():
        try:
            fault_services.fault_reply(fault=fault, by=request.user, body=form.cleaned_data["body"])
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Your message was sent to the IT office."))
            return redirect("portal:fault", pk=fault.pk)
    return render(request, "portal/fault.html", {"fault": fault, "form": form})


@login_required
def fault_photo(request: HttpRequest, pk: int) -> FileResponse:
    fault = get_object_or_404(selectors.my_faults(request.user), pk=pk)
    if not fault.photo:
        raise Http404
    return private_file_response(open_stream(fault.photo.storage, fault.photo.name),
                                 filename=fault.photo.name.rsplit("/", 1)[-1])


@login_required
def document_download(request: HttpRequest, code: str) -> FileResponse:
    document = get_object_or_404(selectors.my_documents(request.user), code=normalize_code(code))
    return private_file_response(open_stream(document.file.storage, document.file.name),
                                 content_type="application/pdf", filename=f"{document.kind}-{document.code}.pdf")


@login_required
@require_http_methods(["GET", "POST"])
def api_token(request: HttpRequest) -> HttpResponse:
    """The person's API token: when it was issued and how it ends; issue a new one (shown whole once,
    on this answer only) or revoke it."""
    new_key = None
    if request.method == "POST":
        if request.POST.get("action") == "issue":
            new_key = tokens.token_issue(request.user).key
            messages.success(request, _("A new API token was issued; the previous one no longer works. Copy it now: "
                                        "it is not shown again."))
        elif request.POST.get("action") == "revoke":
            if tokens.token_revoke(request.user):
                messages.success(request, _("Your API token was revoked; programs using it are refused from now on."))
            else:
                messages.error(request, _("You have no API token to revoke."))
            return redirect("portal:api-token")
        else:
            messages.error(request, _("Choose whether to issue a new token or revoke the one you have."))
            return redirect("portal:api-token")
    token = tokens.token_of(request.user)
    response = render(request, "portal/token.html", {
        "token": token, "ending": tokens.token_ending(token) if token else "", "new_key": new_key})
    if new_key:
        response["Cache-Control"] = "no-store"  # the whole key is on this page only
    return response


@login_required
def personal_data(request: HttpRequest) -> HttpResponse:
    """Everything the office holds about the signed-in borrower, as a JSON file (GDPR art. 15)."""
    recipient = Recipient.objects.filter(user=request.user).first()
    if recipient is None:
        raise Http404
    return personal_data_response(recipient_export(recipient), name="me", by=request.user)
