"""Personal data (GDPR): the export of everything held about a person, and their anonymisation.

The machinery every app shares; the subjects are defined where their models live (loans.privacy for a
loan recipient, a councillor above all; donations.privacy for a beneficiary of a grant project). As with
core.scoping, an app adds what it holds about a subject by registering a *part* on the subject's model
(faults adds the fault reports a councillor wrote, donations the beneficiary record and the transfers),
so that core and loans stay unaware of the apps above them.

What is erased and what is kept is decided per subject in its module's docstring. What every subject
shares, decided here:

- Issued documents (core.StoredDocument) are never altered, whatever they say about the person: they are
  the office's legal evidence (GDPR art. 17(3)(b) and (e): a legal obligation, legal claims), kept under
  the office's archive rules, and `/verify/<code>/` must still find the file matching its SHA-256. Their
  public title carries no personal data by design.
- In the database, the personal fields become PLACEHOLDER, in the record and in every history row of it;
  the person's values (name, address, contact, ...) are also replaced wherever a free text or a history
  reason repeated them (a device event "loan 12 to Jan Kowalski").
- The erasure is an `Anonymisation` row: who, when, the end of the retention period that allowed it and
  what was erased. One per subject (a unique constraint): a second attempt is refused as already done.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q, QuerySet
from django.db.models.fields.files import FieldFile
from django.utils import timezone
from django.utils.translation import gettext as _

from core.audit import actor
from core.exceptions import GuardFailed

# What replaces a personal value. Fixed and language-neutral: it is stored data, not a label.
PLACEHOLDER = "[anonymised]"

# Values shorter than this are not searched for in free texts (an initial would match everywhere).
_MIN_VALUE_LENGTH = 3

EXPORT_FORMAT = "personal-data-export/1"


# --- what an app holds about a subject ------------------------------------------------------------

@dataclass(frozen=True)
class Part:
    """What one app holds about a subject of `model`: its export, and how it is erased (returns counts)."""

    key: str
    export: Callable[[models.Model], Any]
    anonymise: Callable[..., dict[str, int]] | None = None  # anonymise(subject, scrubber, by=...)
    values: Callable[[models.Model], Iterable[str]] | None = None  # more personal values to search for
    guard: Callable[[models.Model], None] | None = None  # raises a DomainError when the erasure must wait


_parts: dict[str, list[Part]] = {}


def register_part(model: type[models.Model], part: Part) -> None:
    """Declare that an app holds data about subjects of `model` (registered once, in its AppConfig.ready)."""
    registered = _parts.setdefault(model._meta.label_lower, [])
    if all(p.key != part.key for p in registered):
        registered.append(part)


def parts_of(model: type[models.Model]) -> list[Part]:
    return list(_parts.get(model._meta.label_lower, ()))


def export_parts(subject: models.Model) -> dict[str, Any]:
    return {part.key: part.export(subject) for part in parts_of(type(subject))}


def part_values(subject: models.Model) -> list[str]:
    return [value for part in parts_of(type(subject)) if part.values for value in part.values(subject)]


def guard_parts(subject: models.Model) -> None:
    for part in parts_of(type(subject)):
        if part.guard:
            part.guard(subject)


def anonymise_parts(subject: models.Model, scrubber: Scrubber, *, by) -> dict[str, int]:
    counts: dict[str, int] = {}
    for part in parts_of(type(subject)):
        if part.anonymise:
            for key, count in part.anonymise(subject, scrubber, by=by).items():
                counts[key] = counts.get(key, 0) + count
    return counts


@dataclass(frozen=True)
class SubjectKind:
    """A kind of person whose data the office erases when its retention period is over (the command
    `anonymise_expired` goes through every registered kind)."""

    key: str  # "recipient", "beneficiary"
    expired: Callable[[date], list[models.Model]]  # the subjects past retention, not yet anonymised
    anonymise: Callable[..., Any]  # anonymise(subject, by=..., today=...)
    label: Callable[[models.Model], str]  # names the subject without personal data


_kinds: dict[str, SubjectKind] = {}


def register_subject_kind(kind: SubjectKind) -> None:
    _kinds[kind.key] = kind


def subject_kinds() -> list[SubjectKind]:
    return [_kinds[key] for key in sorted(_kinds)]


# --- export -----------------------------------------------------------------------------------------

def plain(value: Any) -> Any:
    """A field's value as JSON has it: dates in ISO 8601, files by their stored name, decimals as text."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, FieldFile):
        return value.name or ""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def record(instance: models.Model, *, exclude: Iterable[str] = ()) -> dict[str, Any]:
    """Every stored field of a row (foreign keys by id, under the field's name), as plain JSON values."""
    skip = set(exclude)
    data: dict[str, Any] = {}
    for field in instance._meta.concrete_fields:
        if field.name in skip:
            continue
        is_file = isinstance(field, models.FileField)
        value = getattr(instance, field.name if is_file else field.attname)
        data[field.name] = plain(value)
    return data


def history(instance: models.Model, *, exclude: Iterable[str] = ()) -> list[dict[str, Any]]:
    """The django-simple-history rows of a record, oldest first, each with who, when and why."""
    manager = getattr(type(instance), "history", None)
    if manager is None:
        return []
    rows = manager.model.objects.filter(id=instance.pk).order_by("history_date", "history_id")
    return [record(row, exclude=exclude) for row in rows]


def document_facts(documents: Iterable) -> list[dict[str, Any]]:
    """Issued documents by what identifies them (the PDF itself is downloaded through /documents/)."""
    return [{"code": d.code, "kind": d.kind, "title": d.title, "issued_at": plain(d.issued_at), "sha256": d.sha256,
             "verify_url": d.get_verify_url()} for d in documents]


def export_envelope(*, subject_type: str, subject: models.Model) -> dict[str, Any]:
    erasure = anonymisation_of(subject)
    return {
        "format": EXPORT_FORMAT,
        "exported_at": plain(timezone.now()),
        "subject": {"type": subject_type, "id": subject.pk},
        "anonymisation": None if erasure is None else {
            "anonymised_at": plain(erasure.anonymised_at), "anonymised_by": erasure.anonymised_by_id,
            "retention_ended_on": plain(erasure.retention_ended_on), "summary": erasure.summary},
    }


# --- erasure ----------------------------------------------------------------------------------------

class Scrubber:
    """The person's values (name, address, contact, ...) and how they are wiped from rows and texts."""

    def __init__(self, values: Iterable[str]) -> None:
        cleaned = {v.strip() for v in values if v and len(v.strip()) >= _MIN_VALUE_LENGTH and v.strip() != PLACEHOLDER}
        self.values = sorted(cleaned, key=len, reverse=True)  # the longest first: "ul. X 5" before "X"
        alternatives = "|".join(re.escape(v) for v in self.values)
        self._pattern = re.compile(f"(?<!\\w)(?:{alternatives})(?!\\w)", re.IGNORECASE) if self.values else None

    # Whole words only: a first name "Ewa" must not eat into "nowa".
    def text(self, value: str) -> str:
        if not value or self._pattern is None:
            return value
        return self._pattern.sub(PLACEHOLDER, value)

    def data(self, value: Any) -> Any:
        """A JSON value with every string scrubbed (a transfer's stored legal check)."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, list):
            return [self.data(v) for v in value]
        if isinstance(value, dict):
            return {k: self.data(v) for k, v in value.items()}
        return value

    def rows(self, queryset: QuerySet, fields: Iterable[str]) -> int:
        """Replace the person's values inside `fields` of the rows of `queryset`; returns the rows changed.

        A plain UPDATE: these are event and history rows, whose own audit is the Anonymisation record.
        """
        fields = list(fields)
        if not self.values or not fields:
            return 0
        condition = Q()
        for field in fields:
            for value in self.values:
                condition |= Q(**{f"{field}__icontains": value})
        changed = 0
        model = queryset.model
        for row in queryset.filter(condition).values("pk", *fields):
            new = {f: self.text(row[f]) for f in fields if isinstance(row[f], str)}
            new = {f: v for f, v in new.items() if v != row[f]}
            if new:
                model._default_manager.filter(pk=row["pk"]).update(**new)
                changed += 1
        return changed

    def json_rows(self, queryset: QuerySet, field: str) -> int:
        changed = 0
        for pk, value in queryset.values_list("pk", field):
            new = self.data(value)
            if new != value:
                queryset.model._default_manager.filter(pk=pk).update(**{field: new})
                changed += 1
        return changed


def blank(instance: models.Model, fields: dict[str, Any]) -> None:
    """Set the personal fields of a record to their erased values (PLACEHOLDER, "" or None)."""
    for name, value in fields.items():
        setattr(instance, name, value)


def erase_history(model: type[models.Model], ids: Iterable[int], fields: dict[str, Any], scrubber: Scrubber) -> int:
    """Erase the personal fields in every history row of the records `ids` (a field left empty stays empty),
    and the person's values in their change reasons. Returns the history rows touched."""
    manager = getattr(model, "history", None)
    if manager is None:
        return 0
    rows = manager.model.objects.filter(id__in=list(ids))
    touched = set()
    for name, value in fields.items():
        filled = rows.exclude(**{name: ""}).exclude(**{f"{name}__isnull": True}).exclude(**{name: value})
        touched.update(filled.values_list("pk", flat=True))
        filled.update(**{name: value})
    return len(touched) + scrubber.rows(rows, ["history_change_reason"])


def years_after(day: date, years: int) -> date:
    """The same calendar day `years` later; 29 February becomes 28 February in a common year."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def history_values(model: type[models.Model], ids: Iterable[int], fields: Iterable[str]) -> set[str]:
    """Every value the fields ever had in the history of the records: an old address is personal too."""
    manager = getattr(model, "history", None)
    if manager is None:
        return set()
    values: set[str] = set()
    for row in manager.model.objects.filter(id__in=list(ids)).values_list(*fields):
        values.update(v for v in row if isinstance(v, str) and v)
    return values


def delete_file(field: FieldFile) -> int:
    """Delete an uploaded file (a scan, a photo) from storage; the field is left empty."""
    if not field:
        return 0
    field.delete(save=False)
    return 1


def erase_user(user, *, scrubber: Scrubber) -> dict[str, int]:
    """A borrower's own sign-in account: no one signs in as it again, and nothing personal stays on it.

    The row stays (events and history name it as the actor); its name, e-mail and password go, its roles,
    API token and sessions are removed, and django-axes forgets its sign-in attempts.
    """
    from django.apps import apps
    from django.contrib.sessions.models import Session
    from rest_framework.authtoken.models import Token

    username = user.get_username()
    user.username = f"anonymised-{user.pk}"
    user.first_name = ""
    user.last_name = ""
    user.email = ""
    user.is_active = False
    user.set_unusable_password()
    user.save()
    user.groups.clear()
    user.user_permissions.clear()
    tokens, _ignored = Token.objects.filter(user=user).delete()
    sessions = 0
    for session in Session.objects.filter(expire_date__gte=timezone.now()).iterator():
        if str(session.get_decoded().get("_auth_user_id")) == str(user.pk):
            session.delete()
            sessions += 1
    attempts = 0
    if apps.is_installed("axes"):
        for model in apps.get_app_config("axes").get_models():
            if any(f.name == "username" for f in model._meta.fields):
                attempts += model._default_manager.filter(username=username).delete()[0]
    return {"user_accounts": 1, "api_tokens": tokens, "sessions": sessions, "sign_in_records": attempts}


# --- the record of an anonymisation ---------------------------------------------------------------

def anonymisation_of(subject: models.Model):
    from core.models import Anonymisation

    return Anonymisation.objects.filter(subject_type=ContentType.objects.get_for_model(subject),
                                        subject_id=subject.pk).first()


def is_anonymised(subject: models.Model) -> bool:
    return anonymisation_of(subject) is not None


def refuse_if_anonymised(subject: models.Model, *, field: str | None = None) -> None:
    """Refuse (409) any work on a subject whose personal data is gone: nothing may be written back."""
    erasure = anonymisation_of(subject)
    if erasure is not None:
        raise GuardFailed(_("The personal data of %(subject)s was anonymised on %(date)s.")
                          % {"subject": erasure.label, "date": timezone.localtime(erasure.anonymised_at)
                             .strftime("%d.%m.%Y")}, code="already_anonymised", field=field)


def refuse_before(retention_ends_on: date, *, today: date, label: str) -> None:
    """Refuse while the retention period lasts: the data may be erased from the day after its end."""
    if today <= retention_ends_on:
        raise GuardFailed(_("The retention period of %(subject)s ends on %(date)s; its personal data can be "
                            "anonymised from the next day.")
                          % {"subject": label, "date": retention_ends_on.strftime("%d.%m.%Y")},
                          code="retention_not_over")


def stored_label(label: Callable[[models.Model], str], subject: models.Model) -> str:
    """The subject's label as the Anonymisation keeps it: in the office's language, whoever asked."""
    from django.conf import settings
    from django.utils import translation

    with translation.override(settings.LANGUAGE_CODE):
        return label(subject)


def record_anonymisation(subject: models.Model, *, by, label: str, retention_ended_on: date,
                         summary: dict[str, int]):
    from core.models import Anonymisation

    return Anonymisation.objects.create(
        subject_type=ContentType.objects.get_for_model(subject), subject_id=subject.pk, label=label,
        anonymised_by=actor(by), retention_ended_on=retention_ended_on,
        summary={k: v for k, v in sorted(summary.items()) if v})
