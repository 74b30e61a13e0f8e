"""The donations API routes; config/api.py mounts them on the one API router."""
from donations.api import views

routes = [
    ("projects", views.GrantProjectViewSet, "grant-project"),
    ("beneficiaries", views.BeneficiaryViewSet, "beneficiary"),
    ("obligations", views.ObligationViewSet, "obligation"),
    ("obligation-records", views.ObligationRecordViewSet, "obligation-record"),
    ("orders", views.MayoralOrderViewSet, "mayoral-order"),
    ("transfers", views.TransferViewSet, "transfer"),
    ("donation-offers", views.DonationOfferViewSet, "donation-offer"),
    ("liquidations", views.LiquidationViewSet, "liquidation"),
]
