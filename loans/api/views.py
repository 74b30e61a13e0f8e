"""Thin viewsets over loans: every write and every move through loans.services."""
from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from core.api.privacy import PersonalDataMixin
from core.api.viewsets import HolderScopedMixin, RegisterViewSet
from core.permissions import require_perm
from loans import privacy, selectors, services
from loans.api import serializers as s
from loans.filtersets import CouncilTermFilterSet, FindingFilterSet, LoanFilterSet, RecipientFilterSet

MOVE = require_perm("loans.move_loan")


def _anonymise_recipient(recipient, *, by):
    return privacy.recipient_anonymise(recipient=recipient, by=by)


class RecipientViewSet(PersonalDataMixin, RegisterViewSet):
    """Borrowers. The legal office downloads a borrower's personal data (`personal-data`) and anonymises it
    after the retention period (`anonymise`)."""

    queryset = selectors.recipient_list()
    serializer_class = s.RecipientSerializer
    filterset_class = RecipientFilterSet
    ordering_fields = ["name", "created_at"]
    create_service = services.recipient_create
    update_service = services.recipient_update
    update_kwarg = "recipient"
    personal_data_export = privacy.recipient_export
    personal_data_anonymise = _anonymise_recipient
    personal_data_name = "recipient"
    export_permission = "loans.export_personal_data_recipient"
    anonymise_permission = "loans.anonymise_recipient"


class CouncilTermViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                         viewsets.GenericViewSet):
    """Council terms; the end date changes only through `change-end`, which moves the open loans."""

    queryset = selectors.council_term_list()
    serializer_class = s.CouncilTermSerializer
    filterset_class = CouncilTermFilterSet

    def perform_create(self, serializer) -> None:
        serializer.instance = services.council_term_create(by=self.request.user, **serializer.validated_data)

    @extend_schema(request=s.TermEndSerializer, responses=s.CouncilTermSerializer)
    @action(detail=True, methods=["post"], url_path="change-end", permission_classes=[MOVE])
    def change_end(self, request, pk=None):
        payload = s.TermEndSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        term = services.council_term_change_end(term=self.get_object(), by=request.user, **payload.validated_data)
        return Response(s.CouncilTermSerializer(term).data)


class LoanViewSet(HolderScopedMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                  viewsets.GenericViewSet):
    """Loans for use. Starting one is a POST to the list; each later move is its own POST action.

    A borrower with a user account (a councillor) sees their own loans and nothing else.
    """

    queryset = selectors.loan_list()
    serializer_class = s.LoanSerializer
    filterset_class = LoanFilterSet
    ordering_fields = ["starts_on", "planned_end_on"]

    def get_permissions(self):
        if self.action == "create":
            return [MOVE()]
        return super().get_permissions()

    @extend_schema(request=s.LoanStartSerializer, responses={201: s.LoanSerializer})
    def create(self, request, *args, **kwargs):
        payload = s.LoanStartSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        loan = services.loan_start(by=request.user, **payload.validated_data)
        return Response(self._read(loan), status=status.HTTP_201_CREATED)

    def _read(self, loan) -> dict:
        return s.LoanSerializer(self.get_queryset().get(pk=loan.pk), context=self.get_serializer_context()).data

    def _move(self, request, payload_serializer, service) -> Response:
        payload = payload_serializer(data=request.data)
        loan = self.get_object()  # first: someone else's loan is a 404 whatever the payload
        payload.is_valid(raise_exception=True)
        loan = service(loan=loan, by=request.user, **payload.validated_data)
        return Response(self._read(loan))

    @extend_schema(request=s.ExtendSerializer, responses=s.LoanSerializer)
    @action(detail=True, methods=["post"], permission_classes=[MOVE])
    def extend(self, request, pk=None):
        return self._move(request, s.ExtendSerializer, services.loan_extend)

    @extend_schema(request=s.ReturnSerializer, responses=s.LoanSerializer)
    @action(detail=True, methods=["post"], url_path="return", permission_classes=[MOVE])
    def return_loan(self, request, pk=None):
        return self._move(request, s.ReturnSerializer, services.loan_return)

    @extend_schema(request=s.LostSerializer, responses=s.LoanSerializer)
    @action(detail=True, methods=["post"], url_path="mark-lost", permission_classes=[MOVE])
    def mark_lost(self, request, pk=None):
        return self._move(request, s.LostSerializer, services.loan_mark_lost)

    @extend_schema(request=None, responses={201: s.LoanDocumentSerializer})
    @action(detail=True, methods=["post"], url_path="issue-agreement", permission_classes=[MOVE])
    def issue_agreement(self, request, pk=None):
        """Issue the loan agreement of a loan registered without one (imported from an older system);
        409 when the loan already has it."""
        document = services.loan_agreement_issue_missing(loan=self.get_object(), by=request.user)
        return Response(s.LoanDocumentSerializer(document, context=self.get_serializer_context()).data,
                        status=status.HTTP_201_CREATED)

    @extend_schema(request=s.SetupStepInputSerializer, responses=s.LoanSerializer)
    @action(detail=True, methods=["post"], url_path="setup-step", permission_classes=[MOVE])
    def setup_step(self, request, pk=None):
        payload = s.SetupStepInputSerializer(data=request.data)
        loan = self.get_object()
        payload.is_valid(raise_exception=True)
        services.loan_record_setup_step(loan=loan, by=request.user, **payload.validated_data)
        return Response(self._read(loan))


class LoanFindingViewSet(viewsets.ReadOnlyModelViewSet):
    """What was found wrong at returns; open until settled."""

    queryset = selectors.finding_list()
    serializer_class = s.LoanFindingSerializer
    filterset_class = FindingFilterSet

    @extend_schema(request=s.SettleSerializer, responses=s.LoanFindingSerializer)
    @action(detail=True, methods=["post"], permission_classes=[MOVE])
    def settle(self, request, pk=None):
        payload = s.SettleSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        finding = services.loan_finding_settle(finding=self.get_object(), by=request.user, **payload.validated_data)
        return Response(s.LoanFindingSerializer(finding).data)
