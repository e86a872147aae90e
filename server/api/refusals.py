"""The error responses each operation documents: every status it may answer, one shape.

The OpenAPI document has no catch-all ``default`` response: an operation lists the statuses
a client must be ready for, and the conformance test (schemathesis) fails on any other.
Each refusal is documented where it is decided. What follows from how a route is built is
added by the Blueprint (``RefusalsMixin``): 404 for a path parameter (no such record, or
a value the URL converter refuses), 400 and 413 for a JSON body (not JSON, too large;
flask-smorest adds the 422 of its validation). ``guards.roles_required`` adds 401 and
403. A view adds what only its service knows (409, 410, 428, 429, ...) with ``@refusals``.
"""

from __future__ import annotations

from collections.abc import Callable
from http import HTTPStatus
from typing import Any, TypeVar

import flask_smorest
from flask.views import MethodView
from marshmallow import Schema

F = TypeVar("F", bound=Callable[..., Any])


def refusals(*statuses: int) -> Callable[[F], F]:
    """Document that the view may answer each of ``statuses`` in the one error shape."""
    # flask-smorest registers a response per HTTP status, named as HTTPStatus names it and
    # holding the API's ERROR_SCHEMA; apispec resolves the name to its $ref.
    responses = {int(status): HTTPStatus(status).name for status in statuses}
    decorator: Callable[[F], F] = flask_smorest.Blueprint.doc(responses=responses)
    return decorator


def on_each_method(view: Any, decorator: Callable[[Any], Any]) -> Any:
    """``decorator`` applied to a view function, or to each HTTP method of a MethodView."""
    if not (isinstance(view, type) and issubclass(view, MethodView)):
        return decorator(view)
    for method in view.methods or ():
        name = method.lower()
        setattr(view, name, decorator(getattr(view, name)))
    return view


class RefusalsMixin:
    """Blueprint methods that document the refusals their kind of route implies."""

    def route(self, rule: str, *, parameters: list[Any] | None = None,
              tags: list[str] | None = None, **options: Any) -> Callable[[F], F]:
        """flask-smorest's ``route``; a rule with a path parameter may answer 404."""
        register: Callable[[F], F] = super().route(  # type: ignore[misc]
            rule, parameters=parameters, tags=tags, **options)
        if "<" not in rule:
            return register

        def decorator(view: F) -> F:
            documented: F = on_each_method(view, refusals(HTTPStatus.NOT_FOUND))
            return register(documented)

        return decorator

    def arguments(self, schema: type[Schema] | Schema, *, location: str = "json",
                  **kwargs: Any) -> Callable[[F], F]:
        """flask-smorest's ``arguments``; a JSON body may be malformed (400) or too large
        (413, over ``MAX_BODY_BYTES``)."""
        decorator: Callable[[F], F] = super().arguments(  # type: ignore[misc]
            schema, location=location, **kwargs)
        if location != "json":
            return decorator
        documented = refusals(HTTPStatus.BAD_REQUEST, HTTPStatus.REQUEST_ENTITY_TOO_LARGE)
        return lambda view: documented(decorator(view))
