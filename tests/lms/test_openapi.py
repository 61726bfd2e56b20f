"""The OpenAPI document: public, valid, and in step with the routes the app really serves."""

from __future__ import annotations

import re
from typing import Any

import pytest
from openapi_spec_validator import validate

import lms
from lms import hookimpl
from lms.plugins import PluginError

DOC_URL = "/api/v1/openapi.json"
HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
#: Flask's ``<int:version_id>`` or ``<slug>`` becomes OpenAPI's ``{version_id}``, ``{slug}``.
FLASK_PARAM = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")


def _document(app) -> dict[str, Any]:
    response = app.test_client().get(DOC_URL)
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    return response.get_json()


def _api_rules(app) -> list[Any]:
    return [
        rule
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/v1/") and rule.rule != DOC_URL
    ]


def _example_url(rule) -> str:
    values = {
        name: 1 if type(rule._converters[name]).__name__ == "IntegerConverter" else "x"
        for name in rule.arguments
    }
    return rule.build(values, append_unknown=False)[1]


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [ref for value in node.values() for ref in _refs(value)]
    if isinstance(node, list):
        return [ref for value in node for ref in _refs(value)]
    return []


def _resolve(document: dict[str, Any], ref: str) -> Any:
    assert ref.startswith("#/"), ref
    node: Any = document
    for part in ref[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        assert isinstance(node, dict) and part in node, f"unresolved {ref}"
        node = node[part]
    return node


def test_document_is_public_and_describes_the_api(app):
    document = _document(app)
    assert document["openapi"].startswith("3.1.")
    assert document["info"] == {**document["info"], "title": "Madrasa LMS API"}
    assert document["info"]["version"] == lms.__version__
    assert document["servers"][0]["url"] == "/"
    assert document["components"]["securitySchemes"]["session"] == {
        **document["components"]["securitySchemes"]["session"],
        "type": "apiKey",
        "in": "cookie",
        "name": "session",
    }
    assert document["security"] == [{"session": []}]
    error = document["components"]["schemas"]["Error"]["properties"]["error"]
    assert set(error["required"]) == {"status", "title", "message"}
    assert document["paths"][DOC_URL]["get"]["security"] == []


def test_document_is_valid_openapi(app):
    document = _document(app)
    validate(document)  # the OpenAPI 3.1 meta-schema, and every reference resolves
    # The same, by hand, so a failure says which path or reference is wrong.
    assert document["paths"]
    for path, item in document["paths"].items():
        operations = {key: value for key, value in item.items() if key in HTTP_METHODS}
        assert operations, f"{path} has no operation"
        for method, operation in operations.items():
            assert operation.get("responses"), f"{method.upper()} {path} has no responses"
            assert any(code.startswith("2") for code in operation["responses"]), path
            declared = {p["name"] for p in operation.get("parameters", ()) if p["in"] == "path"}
            assert declared == set(re.findall(r"\{(\w+)\}", path)), f"{path} parameters"
    refs = _refs(document)
    assert refs
    for ref in refs:
        _resolve(document, ref)


def test_every_api_route_is_documented_and_nothing_else(app):
    paths = _document(app)["paths"]
    served: dict[str, set[str]] = {}
    for rule in _api_rules(app):
        path = FLASK_PARAM.sub(r"{\1}", rule.rule)
        served.setdefault(path, set()).update(m.lower() for m in rule.methods - {"HEAD", "OPTIONS"})
    assert served, "the app serves no API routes"
    for path, methods in served.items():
        assert path in paths, f"{path} is served but not documented"
        assert methods <= set(paths[path]), f"{path}: {methods - set(paths[path])} undocumented"
    documented = {path for path in paths if path.startswith("/api/")} - {DOC_URL}
    assert documented == set(served), f"documented but not served: {documented - set(served)}"


def test_public_paths_outside_the_api_are_served_and_need_no_log_in(app):
    """A few public answers (checking a certificate) are described though not under /api/."""
    paths = _document(app)["paths"]
    outside = {path for path in paths if not path.startswith("/api/")}
    served = {FLASK_PARAM.sub(r"{\1}", rule.rule) for rule in app.url_map.iter_rules()}
    assert outside <= served, f"described but not served: {outside - served}"
    for path in outside:
        for method, operation in paths[path].items():
            if method in HTTP_METHODS:
                assert operation["security"] == [], (path, method)


def test_api_answers_visitors_with_json_not_a_redirect(app):
    client = app.test_client()
    for rule in _api_rules(app):
        response = client.get(_example_url(rule))
        assert response.status_code == 401, rule.rule
        assert response.mimetype == "application/json"
        assert response.get_json()["error"]["status"] == 401
        assert set(response.get_json()["error"]) == {"status", "title", "message"}


def test_pages_still_send_visitors_to_log_in(app):
    response = app.test_client().get("/curriculum/")
    assert response.status_code == 302
    assert "/account/login?next=" in response.headers["Location"]


def test_unknown_api_url_answers_json(app):
    response = app.test_client().get("/api/v1/no-such-thing")
    assert response.status_code == 404
    assert response.get_json()["error"]["status"] == 404


class _Clash:
    """A plugin that describes a path the curriculum plugin already describes."""

    PLUGIN_NAME = "clash"

    @staticmethod
    @hookimpl
    def register_openapi():
        return {"paths": {"/api/v1/curriculum/manuals": {"get": {"responses": {}}}}}


class _OutsideApi:
    PLUGIN_NAME = "outside_api"

    @staticmethod
    @hookimpl
    def register_openapi():
        return {"paths": {"/garden": {"get": {"responses": {}}}}}


class _Garden:
    """A plugin adding its own path and schema, referring to the host's error responses."""

    PLUGIN_NAME = "garden_api"

    @staticmethod
    @hookimpl
    def register_openapi():
        return {
            "paths": {
                "/api/v1/garden/beds": {
                    "get": {
                        "responses": {
                            "200": {
                                "description": "Beds.",
                                "content": {
                                    "application/json": {
                                        "schema": {"$ref": "#/components/schemas/GardenBed"}
                                    }
                                },
                            },
                            "401": {"$ref": "#/components/responses/Unauthorized"},
                        }
                    }
                }
            },
            "schemas": {"GardenBed": {"type": "object"}},
            "tags": [{"name": "garden"}],
        }


class _PublicOutsideApi:
    """Public operations (``security: []``) may be described outside /api/."""

    PLUGIN_NAME = "public_outside_api"

    @staticmethod
    @hookimpl
    def register_openapi():
        return {"paths": {"/garden/open": {"get": {"security": [], "responses": {}}}}}


def test_a_public_path_may_be_described_outside_the_api(make_app):
    app = make_app(plugins=(_PublicOutsideApi,))
    assert "/garden/open" in _document(app)["paths"]


@pytest.mark.parametrize("plugin", [_Clash, _OutsideApi])
def test_clashing_or_misplaced_descriptions_stop_start_up(make_app, plugin):
    with pytest.raises(PluginError):
        make_app(plugins=(plugin,))


def test_plugins_add_paths_schemas_and_tags(make_app):
    app = make_app(plugins=(_Garden,))
    document = _document(app)
    validate(document)
    assert "/api/v1/garden/beds" in document["paths"]
    assert "GardenBed" in document["components"]["schemas"]
    assert {"curriculum", "garden"} <= {tag["name"] for tag in document["tags"]}
