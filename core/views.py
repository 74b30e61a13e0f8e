"""Public pages (verification of issued documents) and guarded file downloads."""
from __future__ import annotations

from pathlib import PurePosixPath

from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from core.selectors import document_by_code, document_matches_file, visible_documents
from core.storage import open_stream
from core.uploads import private_file_response


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "core/home.html")


class VerifyLookupForm(forms.Form):
    code = forms.CharField(label=_("Verification code"), max_length=20)


class VerifyFileForm(forms.Form):
    file = forms.FileField(label=_("PDF file to compare"))

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > settings.MAX_UPLOAD_SIZE:
            raise forms.ValidationError(_("The file is too large to be a document issued by the office."))
        return upload


def verify_lookup(request: HttpRequest) -> HttpResponse:
    form = VerifyLookupForm(request.GET or None)
    if form.is_valid():
        return redirect("verify", code=form.cleaned_data["code"].strip())
    return render(request, "core/verify_lookup.html", {"form": form})


@require_http_methods(["GET", "POST"])
def verify(request: HttpRequest, code: str) -> HttpResponse:
    """Whether a printout is genuine and what it covers; with a file uploaded, whether it is identical.

    Shows only what the document certifies, its kind and when it was issued: no personal data.
    """
    document = document_by_code(code)
    if document is None:
        return render(request, "core/verify_unknown.html", {"code": code}, status=404)
    form = VerifyFileForm(request.POST or None, request.FILES or None)
    matches = None
    if request.method == "POST" and form.is_valid():
        matches = document_matches_file(document, form.cleaned_data["file"])
    return render(request, "core/verify.html", {"document": document, "form": form, "matches": matches})


@login_required
def document_download(request: HttpRequest, code: str) -> FileResponse:
    """The issued PDF itself, for staff allowed to see issued documents and for the borrower it concerns.

    Anyone else gets a 404, as for a code that does not exist: the page says nothing of whose it is.
    """
    document = document_by_code(code, visible_to_user=request.user)
    if document is None:
        raise Http404
    return private_file_response(open_stream(document.file.storage, document.file.name),
                                 content_type="application/pdf", filename=f"{document.kind}-{document.code}.pdf")


# Uploaded files are never served publicly: each folder needs the permission of what it belongs to.
# Fault photos reach their reporter through the portal (/my/faults/<id>/photo/).
_MEDIA_PERMISSIONS = {"documents": "core.view_storeddocument", "contracts": "assets.view_contract",
                      "faults": "faults.view_faultreport", "wipe/evidence": "wipe.view_wipeevidence",
                      "wipe/certificates": "wipe.view_diskremoval",
                      "donations/orders": "donations.view_mayoralorder",
                      "donations/eligibility": "donations.view_beneficiary",
                      "donations/offers": "donations.view_donationoffer",
                      "donations/proofs": "donations.view_obligationrecord",
                      "donations/kpo": "donations.view_liquidation"}


@login_required
def protected_media(request: HttpRequest, path: str) -> FileResponse:
    parts = PurePosixPath(path).parts
    if not parts or ".." in parts:
        raise Http404
    folder = "/".join(parts[:2]) if "/".join(parts[:2]) in _MEDIA_PERMISSIONS else parts[0]
    if folder not in _MEDIA_PERMISSIONS or len(parts) <= len(folder.split("/")):
        raise Http404
    if not request.user.has_perm(_MEDIA_PERMISSIONS[folder]):
        raise PermissionDenied
    if folder == "documents" and not visible_documents(request.user).filter(file=path).exists():
        raise PermissionDenied  # an issued PDF needs the right to see what it is about, as on its download page
    if not default_storage.exists(path):
        raise Http404
    # A download typed by the stored name's extension (never HTML), whatever the file holds.
    return private_file_response(open_stream(default_storage, path), filename=parts[-1])


