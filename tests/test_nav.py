"""The top nav marks the page you are on, once."""

import re

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def _current(client: Client, path: str) -> list[str]:
    html = client.get(path).content.decode()
    return re.findall(r'<a href="([^"]+)" aria-current="page">', html)


def test_the_runs_page_and_a_run_mark_one_link_each(user, workflow_factory) -> None:
    from runs.services.starting import run_start
    from tests.support import linear_graph

    run, _ = run_start(
        workflow=workflow_factory(linear_graph(1)), input={}, actor="test"
    )
    client = Client()
    client.force_login(user)
    assert _current(client, "/runs/") == ["/runs/"]
    assert _current(client, "/board/") == ["/board/"]
    # A run's page belongs to the board (it is where runs are watched).
    assert _current(client, f"/runs/{run.pk}/") == ["/board/"]
