"""The OpenAPI documents the gateway publishes (/api/<service>/openapi.json, /api/docs)
describe the public API only: the gateway answers 404 for /internal paths."""

import importlib

import pytest

from microshop.services import APPS


@pytest.mark.parametrize("service", sorted(APPS))
def test_a_services_openapi_document_lists_no_internal_operation(service: str) -> None:
    module_name, _, factory = APPS[service].partition(":")
    app = getattr(importlib.import_module(module_name), factory)()
    internal = [path for path in app.openapi()["paths"] if path.startswith("/internal")]
    assert internal == []
