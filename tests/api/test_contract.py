"""Our OpenAPI document against the reference that existing Pixeletica clients speak."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pixeletica.api.app import create_app
from pixeletica.config import Settings

REFERENCE = json.loads((Path(__file__).resolve().parents[1] / "data" / "pixeletica-api.openapi.json").read_text())


@pytest.fixture(scope="module")
def ours(tmp_path_factory) -> dict:
    app = create_app(Settings(data_dir=tmp_path_factory.mktemp("contract")), admin_token="x")
    return app.openapi()


def _ours_path(path: str) -> str:
    return path if path == "/" else "/api" + path


def _resolve(doc: dict, schema: dict) -> dict:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[1]
        schema = doc["components"]["schemas"][name]
    if "anyOf" in schema:
        for option in schema["anyOf"]:
            resolved = _resolve(doc, option)
            if resolved.get("properties"):
                return resolved
    return schema


def _operations(doc: dict):
    for path, methods in doc["paths"].items():
        for method, operation in methods.items():
            yield path, method, operation


REFERENCE_OPERATIONS = list(_operations(REFERENCE))


@pytest.mark.parametrize(("path", "method", "operation"), REFERENCE_OPERATIONS, ids=lambda v: str(v)[:40])
def test_every_reference_operation_exists_with_its_fields(ours, path, method, operation):
    mine = ours["paths"].get(_ours_path(path), {}).get(method)
    assert mine is not None, f"{method.upper()} {_ours_path(path)} is missing"
    # Parameters the reference takes are taken here.
    their_params = {(p["name"], p["in"]) for p in operation.get("parameters", [])}
    my_params = {(p["name"], p["in"]) for p in mine.get("parameters", [])}
    assert their_params <= my_params
    # Request body fields the reference sends are accepted.
    for media, content in operation.get("requestBody", {}).get("content", {}).items():
        their_fields = set(_resolve(REFERENCE, content["schema"]).get("properties", {}))
        my_content = mine.get("requestBody", {}).get("content", {})
        assert media in my_content, f"{path}: {media} body not accepted"
        my_fields = set(_resolve(ours, my_content[media]["schema"]).get("properties", {}))
        assert their_fields <= my_fields, f"{path}: body fields {their_fields - my_fields} missing"
    # Status codes of success and of the documented errors the reference lists.
    for code, response in operation["responses"].items():
        if code in ("422", "500"):
            continue
        for media, content in response.get("content", {}).items():
            schema = content.get("schema", {})
            their_fields = set(_resolve(REFERENCE, schema).get("properties", {})) if schema else set()
            if not their_fields or code not in mine["responses"]:
                continue
            my_schema = mine["responses"][code].get("content", {}).get(media, {}).get("schema", {})
            my_fields = set(_resolve(ours, my_schema).get("properties", {}))
            assert their_fields <= my_fields, f"{method} {path} {code}: fields {their_fields - my_fields} missing"


def test_success_codes_match(ours):
    for path, method, operation in REFERENCE_OPERATIONS:
        their_success = {c for c in operation["responses"] if c.startswith("2")}
        mine = ours["paths"][_ours_path(path)][method]
        assert their_success <= set(mine["responses"]), f"{method} {path}"
