"""The cron reminder: holders of loans ending soon or overdue get one e-mail each, the IT office a summary."""
from datetime import timedelta
from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from loans import selectors, services
from loans.choices import LoanPurpose, RecipientKind
from tests.factories import UserFactory, make_device

pytestmark = pytest.mark.django_db


def recipient(name, email="", *, user_email=None):
    if user_email is not None:
        user = UserFactory(is_staff=False, email=user_email)
        return services.recipient_create(by=None, kind=RecipientKind.COUNCILLOR, name=name, user=user, email=email)
    return services.recipient_create(by=None, kind=RecipientKind.STAFF, name=name, email=email)


def lend(holder, *, ends_in_days, devices=1):
    today = timezone.localdate()
    return services.loan_start(by=None, recipient=holder, purpose=LoanPurpose.STAFF_WORK,
                               starts_on=today - timedelta(days=400),
                               planned_end_on=today + timedelta(days=ends_in_days),
                               condition_at_handover="sprawny",
                               devices=[make_device(kind="laptop") for _ in range(devices)])


def numbers(loan):
    return [item.device.inventory_number for item in loan.items.all()]


def run(*args, capture=None):
    out = StringIO()
    if capture is None:
        call_command("send_loan_reminders", *args, stdout=out)
    else:
        with capture(execute=True):
            call_command("send_loan_reminders", *args, stdout=out)
    return out.getvalue()


def test_holders_of_ending_and_overdue_loans_and_the_it_office_are_emailed(django_capture_on_commit_callbacks,
                                                                            settings):
    settings.LANGUAGE_CODE = "en"  # the command writes in the office's language; read its summary in English
    ewa = recipient("Ewa Radna", user_email="ewa@example.pl")  # a councillor: her account's address
    jan = recipient("Jan Nowak", "jan@example.pl")
    ending = lend(ewa, ends_in_days=10)
    overdue = lend(ewa, ends_in_days=-3, devices=2)
    later = lend(jan, ends_in_days=30)
    done = lend(jan, ends_in_days=-20)
    services.loan_return(loan=done, by=None, condition="ok")

    output = run("--days", "14", capture=django_capture_on_commit_callbacks)

    by_address = {tuple(message.to): message for message in mail.outbox}
    assert set(by_address) == {("ewa@example.pl",), ("it@testserver",)}
    to_ewa = by_address[("ewa@example.pl",)].body
    for number in numbers(ending) + numbers(overdue):
        assert number in to_ewa
    assert ending.planned_end_on.strftime("%d.%m.%Y") in to_ewa
    assert overdue.planned_end_on.strftime("%d.%m.%Y") in to_ewa
    summary = by_address[("it@testserver",)].body
    assert "Ewa Radna" in summary and all(n in summary for n in numbers(ending) + numbers(overdue))
    for message in mail.outbox:
        assert not any(n in message.body for n in numbers(later) + numbers(done))
    assert "2 loans (1 overdue); 1 holder reminded, 0 without an e-mail address" in output


def test_a_holder_without_an_address_is_named_to_the_it_office(django_capture_on_commit_callbacks):
    nobody = recipient("Szkoła Podstawowa nr 3")
    loan = lend(nobody, ends_in_days=1)
    run(capture=django_capture_on_commit_callbacks)
    assert [message.to for message in mail.outbox] == [["it@testserver"]]
    assert "Szkoła Podstawowa nr 3" in mail.outbox[0].body and numbers(loan)[0] in mail.outbox[0].body


def test_the_window_is_the_days_option(django_capture_on_commit_callbacks):
    jan = recipient("Jan Nowak", "jan@example.pl")
    loan = lend(jan, ends_in_days=20)
    run("--days", "14", capture=django_capture_on_commit_callbacks)
    assert mail.outbox == []
    run("--days", "30", capture=django_capture_on_commit_callbacks)
    assert any(numbers(loan)[0] in message.body for message in mail.outbox if message.to == ["jan@example.pl"])


def test_dry_run_prints_and_sends_nothing(django_capture_on_commit_callbacks):
    jan = recipient("Jan Nowak", "jan@example.pl")
    loan = lend(jan, ends_in_days=-1)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        output = run("--dry-run")
    assert mail.outbox == [] and callbacks == []
    assert "jan@example.pl" in output and numbers(loan)[0] in output and "it@testserver" in output


def test_nothing_to_remind_sends_nothing(django_capture_on_commit_callbacks):
    lend(recipient("Jan Nowak", "jan@example.pl"), ends_in_days=60)
    output = run(capture=django_capture_on_commit_callbacks)
    assert mail.outbox == [] and output.strip()


def test_negative_days_are_refused():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        run("--days", "-1")


def test_the_query_count_does_not_grow_with_the_loans(settings):
    settings.IT_OFFICE_EMAILS = []  # the addresses of the IT office users: one more query, once
    UserFactory(roles=["it_office"], email="informatyk@example.pl")
    first = recipient("Ewa Radna", user_email="ewa@example.pl")
    lend(first, ends_in_days=5)
    with CaptureQueriesContext(connection) as few:
        run("--dry-run")
    for n in range(6):
        holder = recipient(f"Radny {n}", user_email=f"radny{n}@example.pl") if n % 2 else recipient(f"Osoba {n}")
        lend(holder, ends_in_days=-n, devices=2)
    with CaptureQueriesContext(connection) as many:
        output = run("--dry-run")
    assert "informatyk@example.pl" in output and "radny5@example.pl" in output
    assert len(many) == len(few) <= 3


def test_the_selector_takes_open_loans_up_to_the_window():
    jan = recipient("Jan Nowak", "jan@example.pl")
    inside, edge, outside = (lend(jan, ends_in_days=d) for d in (-400, 0, 1))
    found = list(selectors.loans_ending_or_overdue(within_days=0, today=timezone.localdate()))
    assert found == [inside, edge] and outside not in found
    assert [item.device.inventory_number for item in found[0].held_items] == numbers(inside)
    long_ago = timezone.localdate() - timedelta(days=401)
    assert list(selectors.loans_ending_or_overdue(within_days=0, today=long_ago)) == []
