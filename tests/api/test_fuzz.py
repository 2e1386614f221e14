"""Schemathesis over our OpenAPI document, against the real server: no input produces a 5xx."""

from __future__ import annotations

import tempfile

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from pixeletica.api.app import create_app
from pixeletica.config import Settings

pytestmark = pytest.mark.slow

with tempfile.TemporaryDirectory() as _folder:
    _doc = create_app(Settings(data_dir=_folder), admin_token="x").openapi()
schema = schemathesis.openapi.from_dict(_doc)


@schema.parametrize()
@settings(max_examples=25, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck))
def test_no_input_gets_a_server_error(case, server):
    headers = dict(server.admin) if case.path.startswith("/api/tasks") else {}
    response = case.call(base_url=server.url, headers=headers, timeout=30)
    assert response.status_code < 500, (
        f"{case.method} {case.formatted_path}: {response.status_code} {response.text}\n"
        + server.log.read_text()[-3000:]
    )
