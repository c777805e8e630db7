"""A workflow's run settings: input schema, sample inputs, business key, retention."""

import pytest

from tests.support import linear_graph

pytestmark = pytest.mark.django_db

URL = "/api/v1/workflows/{}/settings/"


def test_run_settings_round_trip(api, workflow_factory):
    workflow = workflow_factory(linear_graph(1))
    body = {
        "input_schema": {
            "type": "object",
            "properties": {"order_id": {"type": "string"}},
            "required": ["order_id"],
        },
        "sample_inputs": [{"name": "small order", "input": {"order_id": "A-1"}}],
        "business_key": "=input.order_id",
        "retention_days": 30,
        "retention_archive": True,
    }
    response = api.patch(URL.format(workflow.slug), body, format="json")
    assert response.status_code == 200, response.json()
    for field, value in body.items():
        assert response.json()[field] == value
    again = api.get(URL.format(workflow.slug)).json()
    assert again["business_key"] == "=input.order_id"
    cleared = api.patch(
        URL.format(workflow.slug),
        {"retention_days": None, "input_schema": {}, "business_key": ""},
        format="json",
    ).json()
    assert cleared["retention_days"] is None
    assert cleared["input_schema"] == {}
    assert cleared["business_key"] == ""


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"input_schema": {"type": "array"}}, "input_schema"),
        ({"input_schema": {"type": "object", "minProperties": -1}}, "input_schema"),
        ({"input_schema": [1]}, "input_schema"),
        ({"sample_inputs": [{"name": "a", "input": []}]}, "sample_inputs"),
        ({"sample_inputs": [{"name": "a", "input": {}}] * 2}, "sample_inputs"),
        (
            {"sample_inputs": [{"name": f"s{i}", "input": {}} for i in range(21)]},
            "sample_inputs",
        ),
        ({"business_key": "input.order_id"}, "business_key"),
        ({"business_key": "=input.("}, "business_key"),
        ({"business_key": "=nothing.here"}, "business_key"),
        ({"retention_days": 0}, "retention_days"),
        ({"retention_days": 99999}, "retention_days"),
        ({"retention_days": "30"}, "retention_days"),
    ],
)
def test_bad_run_settings_are_refused_and_change_nothing(
    api, workflow_factory, body, field
):
    workflow = workflow_factory(linear_graph(1))
    response = api.patch(URL.format(workflow.slug), body, format="json")
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert any(field in str(error) for error in errors), errors
    workflow.refresh_from_db()
    assert workflow.input_schema == {}
    assert workflow.sample_inputs == []
    assert workflow.business_key == ""
    assert workflow.retention_days is None
