"""Documents of the wipe app: the certificate of sanitization of a device, the protocol of a disk's
removal and destruction, and the summary of a wipe session.

The certificate gives, for every storage medium of the device, every field of the NIST SP 800-88
Appendix G "Certificate of Sanitization" as NIST groups them, or the removal, custody and destruction of
a medium taken out of the device, or the named person's confirmation that the device holds no medium.
Each document is issued into the core registry with its subject (the device, the removal, the session),
so it carries a verification code and can be checked at /verify/<code>/. A subject is rendered from one
load with everything it prints prefetched: a laptop with four disks costs the same queries as one with
one disk, and a session of forty devices the same as a session of two.
"""
from __future__ import annotations

from xml.sax.saxutils import escape

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Prefetch
from django.utils.translation import gettext as _
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, KeepTogether, Paragraph, Spacer, Table, TableStyle

from assets.models import Device, StorageMedium
from core import pdf
from core.choices import DocumentKind
from core.models import StoredDocument
from core.services import document_issue
from wipe.choices import RemovalStatus, SanitizationStatus, SessionOutcome, Technique, Verification
from wipe.models import (
    CustodyEntry,
    DiskRemoval,
    NoMediaConfirmation,
    Sanitization,
    WipeEvidence,
    WipeSession,
    WipeSessionDevice,
)

__all__ = ["sanitization_certificate_issue", "disk_removal_protocol_issue", "wipe_session_summary_issue"]

SANITIZATION_CERTIFICATE_TEMPLATE = "sanitization-certificate/1"
DISK_REMOVAL_PROTOCOL_TEMPLATE = "disk-removal-protocol/1"
WIPE_SESSION_SUMMARY_TEMPLATE = "wipe-session-summary/1"

_FULL_WIDTH = 170 * mm - 12  # A4 less the 20 mm margins of pdf.render and the frame's 6 pt paddings
_LABEL_WIDTH = 55 * mm
_SIGN_STYLES = {name: ParagraphStyle(f"wipe_sign_{name}", parent=pdf.STYLES[name], alignment=TA_CENTER)
                for name in ("cell_bold", "small")}
_STYLES = {
    "h3": ParagraphStyle("wipe_h3", parent=pdf.STYLES["cell_bold"], fontSize=9, leading=12, spaceBefore=3 * mm,
                         spaceAfter=1.5 * mm),
    # A SHA-256 is 64 characters without a break: it fits a column of 110 mm at this size.
    "hash": ParagraphStyle("wipe_hash", parent=pdf.STYLES["small"], fontSize=7.3, leading=9.5),
    # A sentence under a table, with room between them.
    "note": ParagraphStyle("wipe_note", parent=pdf.STYLES["body"], spaceBefore=2 * mm),
    # The records table of a session has eight columns: a point smaller, so that no word is cut.
    "cell": ParagraphStyle("wipe_cell", parent=pdf.STYLES["cell"], fontSize=7, leading=8.5),
    "cell_bold": ParagraphStyle("wipe_cell_bold", parent=pdf.STYLES["cell_bold"], fontSize=7, leading=8.5),
}
_SIGN_HERE = object()  # a key-value row left empty, tall enough to sign in
# Techniques for which it matters whether the storage was encrypted (a reset or crypto erase discards the key).
_ENCRYPTION_MATTERS = frozenset({Technique.FACTORY_RESET, Technique.CRYPTO_ERASE})


# --- the toolkit of these documents --------------------------------------------------------------



def _para(text: object, style: str) -> Paragraph:
    return Paragraph(escape(str(text)).replace("\n", "<br/>"), _STYLES[style])


def _h3(text: str) -> Paragraph:
    return _para(text, "h3")


def _kv(rows: list[tuple[str, object]]) -> Table:
    """pdf.key_value_table, with rows for a signature (`_SIGN_HERE`) left tall and empty, and values that
    are flowables already (a hash in its own style) kept as they are."""
    data, heights = [], []
    for label, value in rows:
        if value is _SIGN_HERE:
            cell, height = "", 14 * mm
        elif isinstance(value, Flowable):
            cell, height = value, None
        else:
            cell, height = pdf.para(pdf.or_dash(value)), None
        data.append([pdf.para(label, "cell_bold"), cell])
        heights.append(height)
    table = Table(data, colWidths=[_LABEL_WIDTH, _FULL_WIDTH - _LABEL_WIDTH], rowHeights=heights)
    table.setStyle(pdf._grid_style(header=False))
    return table


def _group(title: str, rows: list[tuple[str, object]], *, before: list[Flowable] = ()) -> KeepTogether:
    """A heading with its table, never split from it."""
    return KeepTogether([_h3(title), *before, _kv(rows)])


def _grid(header: list[str], rows: list[list[object]], widths: list[float], *, narrow: bool = False) -> Table:
    """pdf.grid_table (header repeated on every page), with cells that may be flowables already; `narrow`
    sets the text a point smaller for a table of many columns."""
    cell, bold = (lambda t: _para(t, "cell"), lambda t: _para(t, "cell_bold")) if narrow else (
        pdf.para, lambda t: pdf.para(t, "cell_bold"))
    data = [[bold(h) for h in header]]
    data += [[c if isinstance(c, Flowable) else cell(pdf.or_dash(c)) for c in row] for row in rows]
    table = Table(data, colWidths=widths, repeatRows=1)
    table.setStyle(pdf._grid_style(header=True))
    return table


def _sign_para(text: str, style: str) -> Paragraph:
    return Paragraph(escape(text), _SIGN_STYLES[style])


def _signatures(*signers: tuple[str, str], lead: list[Flowable] = ()) -> KeepTogether:
    """The one signature block of a document: room to sign above a line, the role and the name below.

    One or two signers; `lead` (the closing statement) stays on the same page as the signatures.
    """
    gap = 20 * mm
    column = (_FULL_WIDTH - gap) / 2
    left, right = signers[0], (signers[1] if len(signers) > 1 else None)
    table = Table(
        [["", "", ""],
         [_sign_para(left[0], "cell_bold"), "", _sign_para(right[0], "cell_bold") if right else ""],
         [_sign_para(left[1], "small"), "", _sign_para(right[1], "small") if right else ""]],
        colWidths=[column, gap, column], rowHeights=[22 * mm, None, None],
    )
    commands = [("LINEABOVE", (0, 1), (0, 1), 0.6, "black"), ("VALIGN", (0, 0), (-1, -1), "TOP")]
    if right:
        commands.append(("LINEABOVE", (2, 1), (2, 1), 0.6, "black"))
    table.setStyle(TableStyle(commands))
    return KeepTogether([*lead, Spacer(1, 8 * mm), table])


def _device_label(device: Device) -> str:
    return f"{device.manufacturer} {device.model}".strip() or "—"


def _device_rows(device: Device) -> list[tuple[str, object]]:
    return [
        (_("Inventory number"), device.inventory_number),
        (_("Kind"), device.get_kind_display()),
        (_("Manufacturer and model"), _device_label(device)),
        (_("Serial number"), device.serial_number),
    ]


def _device_source(device: Device) -> str:
    """The NIST "source" of a medium: the device it was in, in one line."""
    parts = [device.inventory_number, device.get_kind_display(), _device_label(device)]
    if device.serial_number:
        parts.append(_("serial number %(serial)s") % {"serial": device.serial_number})
    return ", ".join(parts)


def _medium_title(medium: StorageMedium) -> str:
    return f"{medium.get_kind_display()} {medium.serial_number or _('without serial number')}"


def _removal_of(medium: StorageMedium) -> DiskRemoval | None:
    try:
        return medium.removal
    except DiskRemoval.DoesNotExist:
        return None


def _destruction_rows(removal: DiskRemoval) -> list[tuple[str, object]]:
    return [
        (_("Destroyed on"), pdf.format_date(removal.destroyed_on)),
        (_("Destruction method"), removal.get_destruction_method_display()),
        (_("Destroyed by (company)"), removal.destruction_company),
        (_("Destruction certificate number"), removal.certificate_number),
    ]


def _verification(record: Sanitization) -> str:
    if record.verification == Verification.NONE or not record.verification_result:
        return record.get_verification_display()
    return f"{record.get_verification_display()}: {record.get_verification_result_display()}"


def _evidence_line(evidence: WipeEvidence) -> str:
    return f"{evidence.original_name} ({evidence.get_format_display()})"


# --- the certificate of sanitization -------------------------------------------------------------

def _load_device(device: Device) -> Device:
    fit = (Sanitization.objects.filter(status=SanitizationStatus.VALIDATED, fit_to_leave=True)
           .select_related("performed_by", "validated_by", "supersedes", "evidence")
           .order_by("-finished_at", "-id"))
    media = (StorageMedium.objects.select_related("removal__removed_by")
             .prefetch_related(Prefetch("removal__custody", queryset=CustodyEntry.objects.order_by("at", "id")))
             .order_by("id"))
    return (Device.objects.select_related("no_media_confirmation__confirmed_by")
            .prefetch_related(Prefetch("media", queryset=media),
                              Prefetch("sanitizations", queryset=fit, to_attr="fit_records"))
            .get(pk=device.pk))


def _current_records(device: Device) -> dict[int, Sanitization]:
    """Each medium's current record: its latest validated record fit for leaving the office."""
    current: dict[int, Sanitization] = {}
    for record in device.fit_records:  # newest first
        current.setdefault(record.medium_id, record)
    return current


def _medium_state(medium: StorageMedium, record: Sanitization | None) -> str:
    removal = _removal_of(medium)
    if medium.removed_at is not None or removal is not None:
        if removal is not None and removal.status == RemovalStatus.DESTROYED:
            return _("removed, destroyed on %(date)s") % {"date": pdf.format_date(removal.destroyed_on)}
        return _("removed, held in custody")
    if record is None:
        return _("no validated sanitization fit for leaving the office")
    return _("sanitized: %(class)s, validated on %(date)s") % {
        "class": record.get_method_class_display(), "date": pdf.format_date(record.validated_at)}


def _media_overview(media: list[StorageMedium], current: dict[int, Sanitization]) -> Table:
    rows = [[str(n), m.get_kind_display(), f"{m.manufacturer} {m.model}".strip(), m.serial_number,
             f"{m.capacity_gb} GB", _medium_state(m, current.get(m.pk))] for n, m in enumerate(media, start=1)]
    return _grid([_("No."), _("Kind"), _("Make and model"), _("Serial number"), _("Capacity"), _("State")],
                 rows, [9 * mm, 18 * mm, 36 * mm, 33 * mm, 22 * mm, _FULL_WIDTH - 118 * mm])


def _medium_information(medium: StorageMedium, device: Device, record: Sanitization | None) -> list[tuple]:
    rows = [
        (_("Make / vendor"), medium.manufacturer),
        (_("Model"), medium.model),
        (_("Serial number"), medium.serial_number),
        (_("Media property number"), device.inventory_number),
        (_("Media type"), f"{medium.get_kind_display()}, {medium.capacity_gb} GB"),
        (_("Source"), _device_source(device)),
    ]
    if record is not None:
        rows += [
            (_("Classification"), record.get_data_classification_display()),
            (_("Data backed up"), record.get_data_backed_up_display()),
            (_("Backup location"), record.backup_location),
        ]
    return rows


def _method_details(record: Sanitization) -> str:
    lines = []
    if record.overwrite_passes is not None:
        lines.append(_("Overwrite passes: %(passes)d") % {"passes": record.overwrite_passes})
    if record.pattern:
        lines.append(_("Pattern: %(pattern)s") % {"pattern": record.pattern})
    if record.technique in _ENCRYPTION_MATTERS or record.encryption_enabled:
        lines.append(_("Storage was encrypted: %(answer)s")
                     % {"answer": _("yes") if record.encryption_enabled else _("no")})
    if record.method_details:
        lines.append(record.method_details)
    return "\n".join(lines)


def _sanitized_medium(record: Sanitization, medium: StorageMedium, device: Device) -> list[Flowable]:
    """Every field of the NIST SP 800-88 Appendix G certificate, in NIST's groups."""
    story: list[Flowable] = [
        _group(_("Person performing sanitization"), [
            (_("Name"), pdf.person(record.performed_by)),
            (_("Title"), record.performer_title),
            (_("Organization"), record.organization),
            (_("Location"), record.location),
            (_("Phone"), record.performer_phone),
        ]),
        _group(_("Media information"), _medium_information(medium, device, record)),
    ]
    details = [
        (_("Method type"), record.get_method_class_display()),
        (_("Method used"), record.get_technique_display()),
        (_("Method details"), _method_details(record)),
        (_("Tool used (including version)"), f"{record.tool} {record.tool_version}".strip()),
        (_("Started"), pdf.format_date(record.started_at)),
        (_("Finished"), pdf.format_date(record.finished_at)),
        (_("Verification method and result"), _verification(record)),
        (_("Post-sanitization classification"), record.get_post_classification_display()),
        (_("Notes"), record.notes),
    ]
    if record.evidence_id:
        evidence = record.evidence
        details.append((_("Tool's report"), _evidence_line(evidence)
                        + (f"\n{_('drive')}: {record.evidence_drive}" if record.evidence_drive else "")))
        details.append((_("SHA-256 of the report"), _para(evidence.sha256, "hash")))
    story.append(_group(_("Sanitization details"), details))
    if record.supersedes_id:
        earlier = record.supersedes
        story.append(_para(
            _("This record corrects the earlier record no. %(id)s of %(date)s. Reason for the correction: "
              "%(reason)s") % {"id": earlier.pk, "date": pdf.format_date(earlier.finished_at),
                              "reason": record.correction_reason or "—"}, "note"))
    story += [
        _group(_("Media destination"), [
            (_("Destination"), record.get_destination_display()),
            (_("Destination details"), record.destination_details),
        ]),
        _group(_("Signature"), [
            (_("Signature"), _SIGN_HERE),
            (_("Date"), pdf.format_date(record.finished_at)),
        ], before=[pdf.para(_("I attest that the information provided on this statement is accurate to the best "
                              "of my knowledge."), "body"), Spacer(1, 1.5 * mm)]),
        _group(_("Validation"), [
            (_("Name"), pdf.person(record.validated_by)),
            (_("Title"), record.validator_title),
            (_("Organization"), settings.ORGANIZATION_NAME),
            (_("Phone"), record.validator_phone),
            (_("Date"), pdf.format_date(record.validated_at)),
            (_("Signature"), _SIGN_HERE),
        ]),
    ]
    return story


def _removed_medium(medium: StorageMedium, device: Device) -> list[Flowable]:
    removal = _removal_of(medium)
    story: list[Flowable] = [_group(_("Media information"), _medium_information(medium, device, None))]
    if removal is None:  # taken out before the wipe app kept a removal record
        story.append(_para(_("Taken out of the device on %(date)s; no removal record is kept.")
                           % {"date": pdf.format_date(medium.removed_at)}, "note"))
        return story
    custody = list(removal.custody.all())
    last = custody[-1] if custody else None
    rows = [
        (_("Removed at"), pdf.format_date(removal.removed_at)),
        (_("Removed by"), pdf.person(removal.removed_by)),
        (_("Kept at"), last.kept_at if last else removal.kept_at),
        (_("Held by"), last.handed_to if last else removal.held_by),
        (_("In custody since"), pdf.format_date(last.at if last else removal.removed_at)),
    ]
    story.append(_group(_("Removal and custody"), rows))
    if removal.status == RemovalStatus.DESTROYED:
        story.append(_group(_("Destruction"), _destruction_rows(removal)))
    else:
        story.append(_para(_("Held in custody, not yet destroyed."), "note"))
    return story


def _no_media(device: Device) -> list[Flowable]:
    try:
        confirmation = device.no_media_confirmation
    except NoMediaConfirmation.DoesNotExist:
        return [pdf.para(_("No storage medium is on record for this device, and no one has confirmed that it holds "
                           "none."), "body")]
    return [
        pdf.para(_("The device holds no storage medium, as confirmed by a named person:"), "body"),
        Spacer(1, 2 * mm),
        pdf.key_value_table([
            (_("Confirmed by"), pdf.person(confirmation.confirmed_by)),
            (_("Confirmed at"), pdf.format_date(confirmation.confirmed_at)),
            (_("How it was checked"), confirmation.how_checked),
        ]),
    ]


def _certificate_story(device: Device, by: AbstractBaseUser | None) -> list:
    media = list(device.media.all())
    current = _current_records(device)
    story: list[Flowable] = [
        pdf.para(_("Certificate of sanitization"), "title"),
        pdf.para(_("This certificate records how each storage medium of the device below was sanitized, or taken "
                   "out of it, so that no data leaves the office with the device. For each medium sanitized in the "
                   "device it gives the fields of the Certificate of Sanitization of NIST SP 800-88, Appendix G."),
                 "body"),
        pdf.para(_("Device"), "h2"),
        pdf.key_value_table(_device_rows(device)),
        pdf.para(_("Storage media"), "h2"),
    ]
    if not media:
        story += _no_media(device)
    else:
        story.append(_media_overview(media, current))
    cleared = bool(media) or hasattr(device, "no_media_confirmation")
    for n, medium in enumerate(media, start=1):
        story.append(pdf.para(_("Medium %(n)d of %(count)d: %(medium)s")
                              % {"n": n, "count": len(media), "medium": _medium_title(medium)}, "h2"))
        if medium.removed_at is not None or _removal_of(medium) is not None:
            story += _removed_medium(medium, device)
            continue
        record = current.get(medium.pk)
        if record is None:
            cleared = False
            story += [_group(_("Media information"), _medium_information(medium, device, None)),
                      _para(_("This medium has no validated sanitization record fit for leaving the office."),
                            "note")]
            continue
        story += _sanitized_medium(record, medium, device)
    if not media:
        statement = _("The device holds no storage medium, as confirmed above.") if cleared else _(
            "The device may not leave the office: it is not known whether it holds a storage medium.")
    elif cleared:
        statement = _("Every storage medium of device %(number)s was either sanitized by a method fit for leaving "
                      "the office, verified and validated by a second person, or taken out of the device into "
                      "recorded custody.") % {"number": device.inventory_number}
    else:
        statement = _("Device %(number)s may not leave the office: a storage medium listed above was neither "
                      "sanitized fit for leaving the office nor removed.") % {"number": device.inventory_number}
    references = pdf.para(_("References: NIST SP 800-88 Rev. 1 and Rev. 2 (2025), Guidelines for Media "
                            "Sanitization; IEEE 2883-2022, Standard for Sanitizing Storage; ISO/IEC 27001:2022, "
                            "controls 7.14 (secure disposal or re-use of equipment) and 8.10 (information "
                            "deletion)."), "small")
    validators = sorted({pdf.person(r.validated_by) for r in current.values()})
    story.append(_signatures(
        (_("Person responsible for the IT office (signature)"), settings.ORGANIZATION_NAME),
        (_("Validator (signature)"), ", ".join(validators) or pdf.person(by)),
        lead=[Spacer(1, 4 * mm), pdf.para(statement, "body"), Spacer(1, 2 * mm), references],
    ))
    return story


def sanitization_certificate_issue(*, device: Device, by: AbstractBaseUser | None) -> StoredDocument:
    """Issue the certificate of sanitization of a device: for every storage medium, the NIST SP 800-88
    Appendix G fields of its current validated record, or its removal, custody and destruction; for a
    device without media, the confirmation that it holds none."""
    device = _load_device(device)
    title = _("Certificate of sanitization of device %(number)s") % {"number": device.inventory_number}
    return document_issue(
        kind=DocumentKind.SANITIZATION_CERTIFICATE, title=title, subject=device, by=by,
        template_version=SANITIZATION_CERTIFICATE_TEMPLATE,
        build=lambda stamp: pdf.render(title=title, story=_certificate_story(device, by), stamp=stamp),
    )


# --- the protocol of removal and destruction -----------------------------------------------------

def _load_removal(removal: DiskRemoval) -> DiskRemoval:
    return (DiskRemoval.objects.select_related("medium", "device", "removed_by", "destruction_recorded_by")
            .prefetch_related(Prefetch("custody", queryset=CustodyEntry.objects.select_related("recorded_by")
                                       .order_by("at", "id")))
            .get(pk=removal.pk))


def _protocol_story(removal: DiskRemoval) -> list:
    medium, device = removal.medium, removal.device
    custody = list(removal.custody.all())
    story: list[Flowable] = [
        pdf.para(_("Disk removal and destruction protocol no. %(id)s") % {"id": removal.pk}, "title"),
        pdf.para(_("Drawn up on %(date)s: the storage medium below was taken out of device %(number)s and put "
                   "under recorded custody until it is destroyed.")
                 % {"date": pdf.format_date(removal.removed_at), "number": device.inventory_number}, "body"),
        pdf.para(_("Storage medium"), "h2"),
        pdf.key_value_table([
            (_("Kind"), medium.get_kind_display()),
            (_("Make"), pdf.or_dash(medium.manufacturer)),
            (_("Model"), pdf.or_dash(medium.model)),
            (_("Serial number"), pdf.or_dash(medium.serial_number)),
            (_("Capacity"), f"{medium.capacity_gb} GB"),
        ]),
        pdf.para(_("Taken out of the device"), "h2"),
        pdf.key_value_table([(label, pdf.or_dash(value)) for label, value in _device_rows(device)]),
        pdf.para(_("Removal"), "h2"),
        pdf.key_value_table([
            (_("Removed at"), pdf.format_date(removal.removed_at)),
            (_("Removed by"), pdf.person(removal.removed_by)),
            (_("State"), removal.get_status_display()),
            (_("Notes"), pdf.or_dash(removal.notes)),
        ]),
        pdf.para(_("Chain of custody"), "h2"),
    ]
    if custody:
        story.append(_grid(
            [_("When"), _("Kept at"), _("Handed to"), _("Recorded by"), _("Notes")],
            [[pdf.format_date(c.at), c.kept_at, c.handed_to, pdf.person(c.recorded_by), c.notes] for c in custody],
            [29 * mm, 40 * mm, 32 * mm, 30 * mm, _FULL_WIDTH - 131 * mm],
        ))
    else:
        story.append(pdf.para(_("No custody entry is recorded."), "body"))
    story.append(pdf.para(_("Destruction"), "h2"))
    if removal.status == RemovalStatus.DESTROYED:
        story.append(pdf.key_value_table(_destruction_rows(removal) + [
            (_("Scan of the certificate on file"), _("yes") if removal.certificate_scan else _("no")),
            (_("Destruction recorded by"), pdf.person(removal.destruction_recorded_by)),
        ]))
        closing = _("The medium was destroyed as recorded above, under the destruction certificate named there.")
    else:
        story.append(pdf.para(_("Not yet destroyed: the medium is held in custody at %(place)s by %(holder)s.")
                              % {"place": removal.kept_at, "holder": removal.held_by}, "body"))
        closing = _("The person receiving custody confirms receiving the storage medium described above.")
    story.append(_signatures((_("Removed by (signature)"), pdf.person(removal.removed_by)),
                             (_("Custody received by (signature)"), removal.held_by),
                             lead=[Spacer(1, 4 * mm), pdf.para(closing, "body")]))
    return story


def disk_removal_protocol_issue(*, removal: DiskRemoval, by: AbstractBaseUser | None) -> StoredDocument:
    """Issue the protocol of a disk's removal (and, once recorded, its destruction): the medium, the
    device it came from, the chain of custody and the destruction certificate."""
    removal = _load_removal(removal)
    title = _("Disk removal and destruction protocol no. %(id)s, device %(number)s") % {
        "id": removal.pk, "number": removal.device.inventory_number}
    return document_issue(
        kind=DocumentKind.DISK_REMOVAL_PROTOCOL, title=title, subject=removal, by=by,
        template_version=DISK_REMOVAL_PROTOCOL_TEMPLATE,
        build=lambda stamp: pdf.render(title=title, story=_protocol_story(removal), stamp=stamp),
    )


# --- the wipe session summary --------------------------------------------------------------------

def _load_session(session: WipeSession) -> WipeSession:
    entries = (WipeSessionDevice.objects.select_related("device")
               .prefetch_related(Prefetch("device__media", queryset=StorageMedium.objects.order_by("id")))
               .order_by("device__inventory_number", "id"))
    records = (Sanitization.objects.select_related("device", "medium", "performed_by")
               .order_by("device__inventory_number", "medium_id", "finished_at", "id"))
    return (WipeSession.objects.select_related("opened_by", "closed_by", "retry_of")
            .prefetch_related(Prefetch("entries", queryset=entries), Prefetch("sanitizations", queryset=records),
                              Prefetch("evidence", queryset=WipeEvidence.objects.order_by("uploaded_at", "id")))
            .get(pk=session.pk))


def _session_story(session: WipeSession) -> list:
    entries = list(session.entries.all())
    records = list(session.sanitizations.all())
    evidence = list(session.evidence.all())
    passed = sum(1 for e in entries if e.outcome == SessionOutcome.PASSED)
    failed = sum(1 for e in entries if e.outcome == SessionOutcome.FAILED)
    pending = len(entries) - passed - failed
    result = _("%(passed)d passed, %(failed)d failed (to wipe again)") % {"passed": passed, "failed": failed}
    if pending:
        result += ", " + _("%(pending)d pending") % {"pending": pending}
    rows = [
        (_("Reference"), session.reference),
        (_("Location"), session.location),
        (_("Tool and version"), pdf.or_dash(f"{session.tool} {session.tool_version}".strip())),
        (_("Opened at"), pdf.format_date(session.opened_at)),
        (_("Opened by"), pdf.person(session.opened_by)),
        (_("Closed at"), pdf.format_date(session.closed_at)),
        (_("Closed and validated by"), pdf.person(session.closed_by)),
        (_("Devices"), result),
    ]
    if session.retry_of_id:
        rows.append((_("Second attempt of"), session.retry_of.reference))
    if session.notes:
        rows.append((_("Notes"), session.notes))
    story: list[Flowable] = [
        pdf.para(_("Wipe session summary %(reference)s") % {"reference": session.reference}, "title"),
        pdf.para(_("The devices below were wiped together in one session; the validator closing it validated the "
                   "wipes recorded in it. A device that passed became sanitized with its own certificate; a device "
                   "that failed is to be wiped again."), "body"),
        pdf.para(_("Session"), "h2"),
        pdf.key_value_table(rows),
        pdf.para(_("Devices"), "h2"),
    ]
    if entries:
        story.append(_grid(
            [_("Inventory number"), _("Storage media"), _("Outcome"), _("Why it failed")],
            [[e.device.inventory_number, "\n".join(_medium_title(m) + (f" ({_('removed')})" if m.removed_at else "")
                                                   for m in e.device.media.all()),
              e.get_outcome_display(), e.failure_reason] for e in entries],
            [32 * mm, 46 * mm, 28 * mm, _FULL_WIDTH - 106 * mm],
        ))
    else:
        story.append(pdf.para(_("No devices."), "body"))
    story.append(pdf.para(_("Sanitization records"), "h2"))
    if records:
        story.append(_grid(
            [_("Device"), _("Medium serial number"), _("Method type"), _("Method used"), _("Passes"),
             _("Verification"), _("Performed by"), _("Status")],
            [[r.device.inventory_number, r.medium.serial_number, r.get_method_class_display(),
              r.get_technique_display(), "" if r.overwrite_passes is None else str(r.overwrite_passes),
              _verification(r), pdf.person(r.performed_by), r.get_status_display()] for r in records],
            [27 * mm, 24 * mm, 19 * mm, 21 * mm, 12 * mm, 20 * mm, 24 * mm, _FULL_WIDTH - 147 * mm], narrow=True,
        ))
    else:
        story.append(pdf.para(_("No sanitization was recorded in this session."), "body"))
    story.append(pdf.para(_("Tool reports"), "h2"))
    if evidence:
        story.append(_grid(
            [_("File name"), _("SHA-256")],
            [[_evidence_line(e), _para(e.sha256, "hash")] for e in evidence],
            [_FULL_WIDTH - 108 * mm, 108 * mm],
        ))
    else:
        story.append(pdf.para(_("No tool report was imported into this session."), "body"))
    statement = pdf.para(_("The validator confirms that the results above are complete and that they did not "
                           "validate a wipe they performed themselves."), "body")
    story.append(_signatures((_("Closed and validated by (signature)"), pdf.person(session.closed_by)),
                             lead=[Spacer(1, 4 * mm), statement]))
    return story


def wipe_session_summary_issue(*, session: WipeSession, by: AbstractBaseUser | None) -> StoredDocument:
    """Issue the summary of a wipe session: its devices and their outcome, every sanitization record made
    in it, the tool reports imported into it, and the validator's signature."""
    session = _load_session(session)
    title = _("Wipe session summary %(reference)s") % {"reference": session.reference}
    return document_issue(
        kind=DocumentKind.WIPE_SESSION_SUMMARY, title=title, subject=session, by=by,
        template_version=WIPE_SESSION_SUMMARY_TEMPLATE,
        build=lambda stamp: pdf.render(title=title, story=_session_story(session), stamp=stamp),
    )
