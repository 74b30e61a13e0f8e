"""The OpenAPI schema says what the API really answers: the empty values found by the API fuzzing."""
import pytest
from drf_spectacular.generators import SchemaGenerator


@pytest.fixture(scope="module")
def components():
    return SchemaGenerator().get_schema(request=None, public=True)["components"]["schemas"]


# A relation that may be missing (no contract, no kit, not yet decided, recorded by the system) is null.
NULLABLE = [
    ("Device", "contract_number"), ("Device", "supplier_name"), ("Device", "kit_code"),
    ("DeviceEvent", "actor"), ("DeviceEvent", "document_code"), ("StoredDocument", "issued_by"),
    ("Fault", "replacement_inventory_number"), ("Order", "project_name"), ("Transfer", "decided_by"),
    ("Transfer", "created_by"), ("TransferEvent", "actor"), ("TransferEvent", "document_code"),
    ("DonationOffer", "decided_by"), ("DonationOffer", "device_inventory_number"),
    ("ObligationRecord", "recorded_by"), ("Liquidation", "recorded_by"), ("LoanFinding", "settled_by"),
    ("WipeSession", "closed_by"), ("CustodyEntry", "recorded_by"), ("WipeEvidence", "uploaded_by"),
    ("ImportBatch", "created_by"), ("ImportBatch", "decided_by"), ("IssuedReport", "issued_by"),
    ("IssuedReport", "code"),
]


@pytest.mark.parametrize(("component", "field"), NULLABLE)
def test_a_missing_relation_is_null_in_the_schema(components, component, field):
    assert components[component]["properties"][field].get("nullable") is True


# A choice not made yet is the empty string.
BLANK = [("Device", "retirement_reason"), ("DeviceEvent", "from_status"), ("DiskRemoval", "destruction_method"),
         ("Sanitization", "verification_result")]


@pytest.mark.parametrize(("component", "field"), BLANK)
def test_a_choice_not_made_yet_may_be_empty_in_the_schema(components, component, field):
    options = components[component]["properties"][field]["oneOf"]
    assert {"$ref": "#/components/schemas/BlankEnum"} in options


def test_the_list_of_analytics_reports_is_an_array_of_reports():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    answer = schema["paths"]["/api/reports/"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert answer["type"] == "array" and answer["items"] == {"$ref": "#/components/schemas/ReportInfo"}
