"""A workflow's owner group is a team: role groups (viewer, editor, ...) are refused."""

from typing import Any

import pytest
from django.contrib.auth.models import Group
from rest_framework.test import APIClient

from designer import access, services
from designer.models import Workflow
from tests.support import grant

pytestmark = pytest.mark.django_db


@pytest.fixture
def editor(django_user_model: Any) -> APIClient:
    """An editor who is also in the team `payments`."""
    user = grant(
        django_user_model.objects.create_user("eddie", password="pw-eddie-1234"),
        "editor",
    )
    user.groups.add(Group.objects.create(name="payments"))
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.mark.parametrize("role", sorted(access.ROLES))
def test_a_role_group_cannot_own_a_workflow(editor: APIClient, role: str) -> None:
    response = editor.post(
        "/api/v1/workflows/",
        {"slug": "x", "name": "X", "owner_group": role},
        format="json",
    )
    assert response.status_code == 400
    (error,) = response.json()["errors"]
    assert error["code"] == "role_group"
    assert error["field"] == "owner_group"
    assert f"{role!r} is a role, not a team" in error["message"]
    assert not Workflow.objects.exists()


def test_an_admin_cannot_give_a_workflow_to_a_role_either(api: APIClient) -> None:
    response = api.post(
        "/api/v1/workflows/",
        {"slug": "x", "name": "X", "owner_group": "viewer"},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "owner_group"


def test_a_team_still_owns_its_workflow(editor: APIClient) -> None:
    response = editor.post(
        "/api/v1/workflows/",
        {"slug": "x", "name": "X", "owner_group": "payments"},
        format="json",
    )
    assert response.status_code == 201
    assert response.json()["owner_group"] == "payments"


def test_the_service_refuses_a_role_group() -> None:
    access.ensure_roles()
    with pytest.raises(ValueError, match="is a role, not a team"):
        services.workflow_create(
            slug="x", name="X", owner_group=Group.objects.get(name="editor")
        )
