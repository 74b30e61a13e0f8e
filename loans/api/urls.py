"""The loans API routes; config/api.py mounts them on the one API router."""
from loans.api import views

routes = [
    ("loans", views.LoanViewSet, "loan"),
    ("recipients", views.RecipientViewSet, "recipient"),
    ("council-terms", views.CouncilTermViewSet, "council-term"),
    ("loan-findings", views.LoanFindingViewSet, "loan-finding"),
]
