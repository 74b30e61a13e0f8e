"""Documents of loans: the loan agreement (umowa użyczenia), the handover protocol (protokół
zdawczo-odbiorczy) and the return protocol (protokół zwrotu).

Each is issued into the core registry with the loan as its subject, so it carries a verification code
and can be checked at /verify/<code>/. A loan is rendered from one load with its devices, accessories,
set-up steps and findings prefetched: a kit of ten devices costs the same queries as a single tablet.
Every document has one signature block, whatever the number of devices.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from xml.sax.saxutils import escape

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Prefetch
from django.utils import timezone
from django.utils.translation import gettext as _
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, KeepTogether, Paragraph, Spacer, Table, TableStyle

from assets.models import Device
from core import pdf
from core.choices import DocumentKind
from core.exceptions import GuardFailed
from core.models import StoredDocument
from core.services import document_issue
from loans.choices import FindingStatus
from loans.models import Loan, LoanAccessory, LoanItem, LoanSetupStep

__all__ = ["loan_agreement_issue", "handover_protocol_issue", "return_protocol_issue"]

LOAN_AGREEMENT_TEMPLATE = "loan-agreement/1"
HANDOVER_PROTOCOL_TEMPLATE = "handover-protocol/1"
RETURN_PROTOCOL_TEMPLATE = "return-protocol/1"

_FULL_WIDTH = 170 * mm - 12  # A4 less the 20 mm margins of pdf.render and the frame's 6 pt paddings
_SIGN_STYLES = {name: ParagraphStyle(f"sign_{name}", parent=pdf.STYLES[name], alignment=TA_CENTER)
                for name in ("cell_bold", "small")}


def _load(loan: Loan) -> Loan:
    return (
        Loan.objects.select_related("recipient", "council_term", "kit")
        .prefetch_related(
            Prefetch("items", queryset=LoanItem.objects.select_related("device").order_by("device__inventory_number")),
            Prefetch("accessories", queryset=LoanAccessory.objects.order_by("id")),
            Prefetch("setup_steps", queryset=LoanSetupStep.objects.select_related("done_by")),
            "findings",
        )
        .get(pk=loan.pk)
    )



def _term_label(loan: Loan) -> str:
    term = loan.council_term
    return (f"{term.council}, {term.name} ({pdf.format_date(term.starts_on)} – {pdf.format_date(term.ends_on)})"
            if term else "")


def _parties(loan: Loan, *, office_label: str, recipient_label: str, office_first: bool = True) -> list:
    """The office and the recipient, in the roles this document gives them (lender, receiving, ...)."""
    recipient = loan.recipient
    office = [(office_label, pdf.organization())]
    borrower = [(recipient_label, f"{recipient.name} ({recipient.get_kind_display()})"),
                (_("Address"), recipient.address or "—")]
    if loan.council_term:
        borrower.append((_("Council term"), _term_label(loan)))
    return [pdf.key_value_table(office + borrower if office_first else borrower + office)]


def _devices(devices: Iterable[Device]) -> list:
    rows = [[str(n), d.inventory_number, d.get_kind_display(), f"{d.manufacturer} {d.model}".strip(),
             d.serial_number or "—"] for n, d in enumerate(devices, start=1)]
    return [pdf.grid_table(
        [_("No."), _("Inventory number"), _("Kind"), _("Manufacturer and model"), _("Serial number")],
        rows, [9 * mm, 40 * mm, 24 * mm, 57 * mm, 40 * mm],
    )]


def _accessories(loan: Loan) -> list:
    accessories = list(loan.accessories.all())
    if not accessories:
        return [pdf.para(_("No accessories."), "body")]
    return [pdf.grid_table(
        [_("Kind"), _("Description"), _("Quantity")],
        [[a.get_kind_display(), a.description or "—", str(a.quantity)] for a in accessories],
        [45 * mm, 100 * mm, 25 * mm],
    )]


def _numbered(paragraphs: list[str]) -> Table:
    """Numbered paragraphs with a hanging indent, as the clauses of an agreement are set."""
    table = Table([[pdf.para(f"{n}.", "body"), pdf.para(text, "body")] for n, text in enumerate(paragraphs, 1)],
                  colWidths=[8 * mm, _FULL_WIDTH - 8 * mm])
    table.setStyle(TableStyle([
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), 0),
        ("RIGHTPADDING", (0, 0), (-1, -1), 2),
        ("TOPPADDING", (0, 0), (-1, -1), 1),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
    ]))
    return table


def _sign_para(text: str, style: str) -> Paragraph:
    return Paragraph(escape(text), _SIGN_STYLES[style])


def _signatures(left: tuple[str, str], right: tuple[str, str], *, lead: list[Flowable] = ()) -> KeepTogether:
    """The one signature block of a document: room to sign above a line, the role and the name below.

    `lead` (the closing clauses) stays on the same page as the signatures, so they are never signed alone.
    """
    gap = 20 * mm
    column = (_FULL_WIDTH - gap) / 2
    table = Table(
        [["", "", ""],
         [_sign_para(left[0], "cell_bold"), "", _sign_para(right[0], "cell_bold")],
         [_sign_para(left[1], "small"), "", _sign_para(right[1], "small")]],
        colWidths=[column, gap, column], rowHeights=[22 * mm, None, None],
    )
    table.setStyle(TableStyle([
        ("LINEABOVE", (0, 1), (0, 1), 0.6, "black"),
        ("LINEABOVE", (2, 1), (2, 1), 0.6, "black"),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ]))
    return KeepTogether([*lead, Spacer(1, 8 * mm), table])


def _section(text: str, number: int | None = None) -> Paragraph:
    return pdf.para(f"§ {number}. {text}" if number else text, "h2")


def _agreement_story(loan: Loan) -> list:
    devices = [item.device for item in loan.items.all()]
    if loan.council_term:
        period = _("The loan starts on %(start)s and ends with the council term %(term)s, planned on %(end)s; "
                   "if the term is shortened or prolonged, the loan ends with it.") % {
            "start": pdf.format_date(loan.starts_on), "term": loan.council_term.name,
            "end": pdf.format_date(loan.planned_end_on)}
    else:
        period = _("The loan starts on %(start)s and ends on %(end)s.") % {
            "start": pdf.format_date(loan.starts_on), "end": pdf.format_date(loan.planned_end_on)}
    obligations = [
        _("The borrower shall use the devices as intended and only for the purpose stated in § 3 "
          "(Civil Code art. 712 § 1)."),
        _("The borrower shall not pass the devices to third persons for use without the lender's written "
          "consent (art. 712 § 2)."),
        _("The borrower shall bear the ordinary costs of using the devices (art. 713)."),
        _("The borrower shall report any fault, loss or theft of the devices to the lender's IT office at once."),
        _("The borrower is liable for the loss or damage of the devices, even accidental, if using them contrary "
          "to this agreement or passing them to another person (art. 714)."),
        _("The lender may demand the return of the devices before the end of the loan if the borrower uses them "
          "contrary to this agreement or to their purpose (art. 716)."),
        _("At the end of the loan the borrower shall return the devices and accessories in the condition in "
          "which they were received; wear resulting from proper use is excepted (art. 718 § 1)."),
    ]
    final = [
        _("Matters not covered by this agreement are governed by the Civil Code, art. 710–719."),
        _("The agreement is made in two identical copies, one for each party."),
    ]
    return [
        pdf.para(_("Loan agreement no. %(id)s") % {"id": loan.pk}, "title"),
        pdf.para(_("Agreement on the loan of devices for use (Civil Code art. 710–719), concluded on %(date)s "
                   "between:") % {"date": pdf.format_date(loan.starts_on)}, "body"),
        _section(_("Parties"), 1),
        *_parties(loan, office_label=_("Lender"), recipient_label=_("Borrower")),
        _section(_("Devices"), 2),
        pdf.para(_("The lender lends the borrower, free of charge, the following devices (%(count)d):")
                 % {"count": len(devices)}, "body"),
        Spacer(1, 2 * mm),
        *_devices(devices),
        pdf.para(_("Accessories"), "h2"),
        *_accessories(loan),
        _section(_("Purpose"), 3),
        pdf.para(_("The devices are lent for: %(purpose)s.") % {"purpose": loan.get_purpose_display()}, "body"),
        _section(_("Period"), 4),
        pdf.para(period, "body"),
        _section(_("Borrower's obligations"), 5),
        _numbered(obligations),
        _signatures((_("Lender's signature"), settings.ORGANIZATION_NAME),
                    (_("Borrower's signature"), loan.recipient.name),
                    lead=[_section(_("Final provisions"), 6), _numbered(final)]),
    ]


def _handover_story(loan: Loan) -> list:
    steps = list(loan.setup_steps.all())
    story = [
        pdf.para(_("Handover protocol"), "title"),
        pdf.para(_("Drawn up on %(date)s under loan agreement no. %(id)s: the devices and accessories below were "
                   "handed over for use.") % {"date": pdf.format_date(loan.starts_on), "id": loan.pk}, "body"),
        pdf.para(_("Parties"), "h2"),
        *_parties(loan, office_label=_("Handing over"), recipient_label=_("Receiving")),
        pdf.para(_("Devices"), "h2"),
        *_devices(item.device for item in loan.items.all()),
        pdf.para(_("Accessories"), "h2"),
        *_accessories(loan),
        pdf.para(_("Condition at handover"), "h2"),
        pdf.para(loan.condition_at_handover, "body"),
        pdf.para(_("Set-up steps"), "h2"),
    ]
    if steps:
        story.append(pdf.grid_table(
            [_("Step"), _("Date"), _("Who"), _("Note")],
            [[s.get_step_display(), pdf.format_date(s.done_on), pdf.person(s.done_by), s.note or "—"] for s in steps],
            [55 * mm, 25 * mm, 40 * mm, 50 * mm],
        ))
    else:
        story.append(pdf.para(_("No set-up steps recorded yet."), "body"))
    confirmation = pdf.para(_("The receiving party confirms receiving the devices and accessories listed above in "
                              "the condition described."), "body")
    story.append(_signatures((_("Handed over by (signature)"), settings.ORGANIZATION_NAME),
                             (_("Received by (signature)"), loan.recipient.name),
                             lead=[Spacer(1, 4 * mm), confirmation]))
    return story


def _return_story(loan: Loan, devices: list[Device], returned_on: date, condition: str, note: str) -> list:
    findings = [f for f in loan.findings.all() if f.status == FindingStatus.OPEN]
    accessories = list(loan.accessories.all())
    story = [
        pdf.para(_("Return protocol"), "title"),
        pdf.para(_("Drawn up on %(date)s under loan agreement no. %(id)s of %(start)s: the devices below were "
                   "returned to the lender.") % {"date": pdf.format_date(returned_on), "id": loan.pk,
                                                 "start": pdf.format_date(loan.starts_on)}, "body"),
        pdf.para(_("Parties"), "h2"),
        *_parties(loan, office_label=_("Receiving"), recipient_label=_("Returning"), office_first=False),
        pdf.para(_("Devices returned"), "h2"),
        *_devices(devices),
        pdf.para(_("Condition at return"), "h2"),
        pdf.para(condition or "—", "body"),
        pdf.para(_("Accessories"), "h2"),
    ]
    if accessories:
        story.append(pdf.grid_table(
            [_("Kind"), _("Description"), _("Handed over"), _("Returned")],
            [[a.get_kind_display(), a.description or "—", str(a.quantity),
              "—" if a.returned_quantity is None else str(a.returned_quantity)] for a in accessories],
            [40 * mm, 80 * mm, 25 * mm, 25 * mm],
        ))
        if any(a.returned_quantity is None for a in accessories):
            story.append(pdf.para(_("— in the Returned column: still held under the loan."), "small"))
    else:
        story.append(pdf.para(_("No accessories."), "body"))
    story.append(pdf.para(_("Open findings"), "h2"))
    if findings:
        story.append(pdf.grid_table([_("Found on"), _("Description")],
                                    [[pdf.format_date(f.found_on), f.description] for f in findings],
                                    [25 * mm, 145 * mm]))
    else:
        story.append(pdf.para(_("No open findings."), "body"))
    if note:
        story += [pdf.para(_("Note"), "h2"), pdf.para(note, "body")]
    confirmation = pdf.para(_("The receiving party confirms receiving back the devices and accessories listed above "
                              "in the condition described; the open findings remain to be settled."), "body")
    story.append(_signatures((_("Returned by (signature)"), loan.recipient.name),
                             (_("Received by (signature)"), settings.ORGANIZATION_NAME),
                             lead=[Spacer(1, 4 * mm), confirmation]))
    return story


def loan_agreement_issue(*, loan: Loan, by: AbstractBaseUser | None) -> StoredDocument:
    """Issue the loan agreement (umowa użyczenia, Civil Code art. 710–719): parties, every device and
    accessory, purpose, period and the borrower's obligations, with one signature block for the loan."""
    loan = _load(loan)
    title = _("Loan agreement no. %(id)s") % {"id": loan.pk}
    return document_issue(
        kind=DocumentKind.LOAN_AGREEMENT, title=title, subject=loan, by=by, template_version=LOAN_AGREEMENT_TEMPLATE,
        build=lambda stamp: pdf.render(title=title, story=_agreement_story(loan), stamp=stamp),
    )


def handover_protocol_issue(*, loan: Loan, by: AbstractBaseUser | None) -> StoredDocument:
    """Issue the handover protocol (protokół zdawczo-odbiorczy): what was handed over, in what condition,
    and the set-up steps recorded so far."""
    loan = _load(loan)
    title = _("Handover protocol, loan no. %(id)s") % {"id": loan.pk}
    return document_issue(
        kind=DocumentKind.HANDOVER_PROTOCOL, title=title, subject=loan, by=by,
        template_version=HANDOVER_PROTOCOL_TEMPLATE,
        build=lambda stamp: pdf.render(title=title, story=_handover_story(loan), stamp=stamp),
    )


def return_protocol_issue(
    *,
    loan: Loan,
    by: AbstractBaseUser | None,
    devices: list[Device] | None = None,
    returned_on: date | None = None,
    condition: str = "",
    note: str = "",
) -> StoredDocument:
    """Issue the return protocol (protokół zwrotu) of devices that came back from the loan.

    Without `devices`, it covers every device of the loan closed on `returned_on` (by default the day the
    loan ended, or today). It lists the condition at return (`condition`, by default the loan's), the
    accessories handed over against those returned, and the loan's open findings.
    """
    loan = _load(loan)
    returned_on = returned_on or loan.ended_on or timezone.localdate()
    items = list(loan.items.all())
    if devices is None:
        returned = [item.device for item in items if not item.is_open and item.closed_on == returned_on]
    else:
        closed = {item.device_id for item in items if not item.is_open}
        for device in devices:
            if device.pk not in closed:
                raise GuardFailed(_("Device %(number)s has not been returned from this loan.")
                                  % {"number": device.inventory_number}, field="devices")
        wanted = {device.pk for device in devices}
        returned = [item.device for item in items if item.device_id in wanted]
    if not returned:
        raise GuardFailed(_("No device of this loan was returned on %(date)s.")
                          % {"date": pdf.format_date(returned_on)}, field="devices")
    title = _("Return protocol, loan no. %(id)s") % {"id": loan.pk}
    return document_issue(
        kind=DocumentKind.RETURN_PROTOCOL, title=title, subject=loan, by=by, template_version=RETURN_PROTOCOL_TEMPLATE,
        build=lambda stamp: pdf.render(
            title=title, story=_return_story(loan, returned, returned_on, condition or loan.condition_at_return,
                                             note.strip()),
            stamp=stamp),
    )
