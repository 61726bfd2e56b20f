"""The JSON API's shared parts: the OpenAPI document, and log-in answers a script can read.

Plugins serve JSON under ``/api/v1/`` and describe it with the ``register_openapi`` hook;
this module assembles the one document clients read, at ``GET /api/v1/openapi.json``
(public: a client needs it before it can log in). The API uses the pages' log-in session,
so an anonymous request to ``/api/`` gets a 401 JSON body instead of the redirect to the
log-in page that a browser follows and a script cannot.
"""

from __future__ import annotations

import copy
from typing import Any

from flask import Blueprint, Flask, abort, current_app, flash, jsonify, redirect, request, session
from flask.blueprints import BlueprintSetupState
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login.config import USE_SESSION_FOR_NEXT
from flask_login.utils import expand_login_view, login_url, make_next_param

from lms import __version__
from lms.extensions import login_manager
from lms.plugins import PluginError

API_PREFIX = "/api/"
API_V1 = "/api/v1"
OPENAPI_VERSION = "3.1.0"
#: Where the assembled document of an app is kept (built once, at start-up).
EXTENSION_KEY = "lms_openapi"
#: Keys a plugin's ``register_openapi`` fragment may have.
FRAGMENT_KEYS = {"paths", "schemas", "tags"}

bp = Blueprint("lms_api", __name__, url_prefix=API_V1)


@bp.get("/openapi.json")
def openapi() -> ResponseReturnValue:
    """The API description; servers are relative, so it is right behind any prefix."""
    document = dict(current_app.extensions[EXTENSION_KEY])
    document["servers"] = [{"url": request.script_root or "/", "description": "This server"}]
    return jsonify(document)


# --- the document ------------------------------------------------------------------------


def _error_response(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


def core_document(app: Flask) -> dict[str, Any]:
    """What the host contributes: info, the session security scheme and the error shapes."""
    cookie = app.config.get("SESSION_COOKIE_NAME") or "session"
    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "Madrasa LMS API",
            "version": __version__,
            "summary": "Read access to the Civic Education and Health Basics manuals.",
            "description": (
                "JSON endpoints of the Madrasa LMS. The API uses the same log-in session as "
                "the web pages: log in through the log-in page and send the session cookie. "
                "Errors are JSON objects with an `error` member; an anonymous request gets "
                "401, a request the user may not make 403."
            ),
        },
        "servers": [{"url": "/"}],
        "security": [{"session": []}],
        "tags": [{"name": "meta", "description": "This description."}],
        "paths": {
            f"{API_V1}/openapi.json": {
                "get": {
                    "tags": ["meta"],
                    "operationId": "getOpenApi",
                    "summary": "This OpenAPI document",
                    "security": [],
                    "responses": {
                        "200": {
                            "description": "The OpenAPI 3.1 document.",
                            "content": {"application/json": {"schema": {"type": "object"}}},
                        }
                    },
                }
            }
        },
        "components": {
            "securitySchemes": {
                "session": {
                    "type": "apiKey",
                    "in": "cookie",
                    "name": cookie,
                    "description": "The session cookie set by logging in on the log-in page.",
                }
            },
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["error"],
                    "properties": {
                        "error": {
                            "type": "object",
                            "required": ["status", "title", "message"],
                            "properties": {
                                "status": {"type": "integer", "examples": [404]},
                                "title": {"type": "string", "examples": ["Not found"]},
                                "message": {
                                    "type": "string",
                                    "description": "For people, in the user's language.",
                                },
                            },
                        }
                    },
                }
            },
            "responses": {
                "BadRequest": _error_response("The request is not valid."),
                "Unauthorized": _error_response("Not logged in."),
                "Forbidden": _error_response("The user may not do this."),
                "NotFound": _error_response("No such item."),
            },
        },
    }


def build_document(app: Flask) -> dict[str, Any]:
    """The core document with every plugin's paths, schemas and tags merged in.

    Two plugins describing the same path or schema would silently shadow each other, so
    that stops the app at start-up like any other duplicate registration.
    """
    document = core_document(app)
    paths: dict[str, Any] = document["paths"]
    schemas: dict[str, Any] = document["components"]["schemas"]
    tags: list[dict[str, Any]] = document["tags"]
    pm = app.extensions["lms"].pm
    for fragment in pm.hook.register_openapi():
        if not fragment:
            continue
        unknown = set(fragment) - FRAGMENT_KEYS
        if unknown:
            raise PluginError(f"unknown keys in an OpenAPI fragment: {sorted(unknown)}")
        for path, item in fragment.get("paths", {}).items():
            if not path.startswith(API_PREFIX) and not _is_public(item):
                raise PluginError(
                    f"the API path {path!r} is not under {API_PREFIX} "
                    "(only public operations, with `security: []`, may be elsewhere)"
                )
            _add_unique(paths, path, item, "API path")
        for name, schema in fragment.get("schemas", {}).items():
            _add_unique(schemas, name, schema, "API schema")
        for tag in fragment.get("tags", ()):
            if any(existing["name"] == tag["name"] for existing in tags):
                raise PluginError(f"two plugins register the API tag {tag['name']!r}")
            tags.append(tag)
    return copy.deepcopy(document)


def _is_public(item: dict[str, Any]) -> bool:
    """Every operation of a path item declares that it needs no log-in (``security: []``).

    Such paths may live outside ``/api/`` (e.g. the public check of a certificate at
    ``/verify/<code>.json``, printed on paper as a short address).
    """
    operations = [value for key, value in item.items() if key in _HTTP_METHODS]
    return bool(operations) and all(op.get("security") == [] for op in operations)


_HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


def _add_unique(target: dict[str, Any], key: str, value: Any, what: str) -> None:
    if key in target:
        raise PluginError(f"two plugins register the {what} {key!r}")
    target[key] = value


# --- log-in answers ----------------------------------------------------------------------


def is_api_request() -> bool:
    return request.path.startswith(API_PREFIX)


def unauthorized() -> ResponseReturnValue:
    """401 JSON for the API; for pages, Flask-Login's usual redirect to the log-in page."""
    if is_api_request():
        body = {
            "error": {
                "status": 401,
                "title": _("Log in"),
                "message": _("Log in to use the API: it uses the same session as the pages."),
            }
        }
        return jsonify(body), 401
    return _redirect_to_log_in()


def _redirect_to_log_in() -> ResponseReturnValue:
    """Flask-Login's default answer, which a custom handler replaces and so must repeat."""
    manager = current_app.login_manager  # type: ignore[attr-defined]
    view = manager.blueprint_login_views.get(request.blueprint, manager.login_view)
    if not view:
        abort(401)
    if manager.login_message:
        message = manager.login_message
        if manager.localize_callback is not None:
            message = manager.localize_callback(message)
        flash(message, category=manager.login_message_category)
    if current_app.config.get("USE_SESSION_FOR_NEXT", USE_SESSION_FOR_NEXT):
        session["_id"] = manager._session_identifier_generator()
        session["next"] = make_next_param(expand_login_view(view), request.url)
        return redirect(login_url(view))
    return redirect(login_url(view, next_url=request.url))


@bp.record_once
def _set_up(state: BlueprintSetupState) -> None:
    """Assemble the document when the app is built (so a clash stops start-up) and answer
    anonymous API requests with JSON."""
    state.app.extensions[EXTENSION_KEY] = build_document(state.app)
    login_manager.unauthorized_handler(unauthorized)


# --- building blocks for plugins' OpenAPI fragments ----------------------------------------

CSRF_HEADER = "X-CSRFToken"
_ERROR_RESPONSES = {
    "400": "BadRequest",
    "401": "Unauthorized",
    "403": "Forbidden",
    "404": "NotFound",
}


def schema_ref(name: str) -> dict[str, str]:
    """A reference to a component schema."""
    return {"$ref": f"#/components/schemas/{name}"}


def error_responses(*codes: str) -> dict[str, Any]:
    """The core's shared error answers (400, 401, 403, 404) by status code."""
    return {code: {"$ref": f"#/components/responses/{_ERROR_RESPONSES[code]}"} for code in codes}


def ok_with_csrf(description: str, schema: str) -> dict[str, Any]:
    """A 200 JSON answer that also carries a fresh CSRF token for the next POST or PUT."""
    return {
        "description": description,
        "headers": {
            CSRF_HEADER: {
                "description": "The CSRF token to send back in the `X-CSRFToken` header of "
                "a POST or PUT made with this session.",
                "schema": {"type": "string"},
            }
        },
        "content": {"application/json": {"schema": schema_ref(schema)}},
    }
