"""The Blueprint every API module uses: flask-smorest's, stricter about JSON and queries."""

from __future__ import annotations

import json
from collections.abc import Callable
from http import HTTPStatus
from typing import Any, TypeVar

import flask_smorest
from flask import Request
from flask_smorest.pagination import PaginationMetadataSchema
from marshmallow import Schema
from webargs import core
from webargs.flaskparser import FlaskParser, is_json_request

from server.api.bodies import read_body, refuse_unless_json
from server.api.query_strings import StrictQueryMixin
from server.api.refusals import RefusalsMixin

F = TypeVar("F", bound=Callable[..., Any])
SchemaArg = type[Schema] | Schema


class BodyParser(FlaskParser):
    """webargs' parser, also answering 400 for JSON the stdlib decoder cannot take, 415 for
    a body that is not JSON, and 413 for a chunked body over the limit (``bodies``)."""

    def _raw_load_json(self, req: Request) -> Any:
        refuse_unless_json(req)
        if not is_json_request(req):
            return core.missing
        try:
            return core.parse_json(read_body(req))
        except json.JSONDecodeError:
            raise  # webargs' own handling: 400, or "missing" for an empty body
        except (RecursionError, ValueError) as exc:
            # json.loads raises these, not JSONDecodeError, for arrays nested too deep and
            # for integers longer than Python converts (4300 digits): the client's fault.
            self._handle_invalid_json_error(exc, req)  # type: ignore[arg-type]


# flask-smorest ships no types, so its Blueprint is Any to mypy.
class TypedBlueprint(flask_smorest.Blueprint):  # type: ignore[misc]
    """flask-smorest's decorators with their types written down, once for every view.

    Each one returns the function (or MethodView) it decorates, so a view keeps its
    signature under ``mypy --strict`` instead of becoming untyped at every ``@blp.…``.
    """

    def route(self, rule: str, *, parameters: list[Any] | None = None,
              tags: list[str] | None = None, **options: Any) -> Callable[[F], F]:
        """Register a view function or MethodView at ``rule``."""
        decorator: Callable[[F], F] = super().route(
            rule, parameters=parameters, tags=tags, **options)
        return decorator

    def arguments(self, schema: SchemaArg, *, location: str = "json",
                  **kwargs: Any) -> Callable[[F], F]:
        """Parse the request's ``location`` with ``schema`` into the view's first argument."""
        decorator: Callable[[F], F] = super().arguments(schema, location=location, **kwargs)
        return decorator

    def response(self, status_code: int | str | HTTPStatus, schema: SchemaArg | None = None,
                 **kwargs: Any) -> Callable[[F], F]:
        """Serialise what the view returns with ``schema``."""
        decorator: Callable[[F], F] = super().response(status_code, schema, **kwargs)
        return decorator

    def alt_response(self, status_code: int | str | HTTPStatus, response: Any = None,
                     **kwargs: Any) -> Callable[[F], F]:
        """Document another response the view may give."""
        decorator: Callable[[F], F] = super().alt_response(status_code, response, **kwargs)
        return decorator

    def paginate(self, pager: Any = None, **kwargs: Any) -> Callable[[F], F]:
        """Hand the view its page parameters and answer the pagination header."""
        decorator: Callable[[F], F] = super().paginate(pager, **kwargs)
        return decorator

    @staticmethod
    def doc(**kwargs: Any) -> Callable[[F], F]:
        """Add ``kwargs`` verbatim to the view's OpenAPI operation."""
        decorator: Callable[[F], F] = flask_smorest.Blueprint.doc(**kwargs)
        return decorator

    def before_request(self, hook: F) -> F:
        """Run ``hook`` before every request to this blueprint (Flask's own method)."""
        registered: F = super().before_request(hook)
        return registered


class Blueprint(StrictQueryMixin, RefusalsMixin, TypedBlueprint):
    """A flask-smorest Blueprint whose body parsing never turns bad JSON into a 500, whose
    query strings refuse parameters the route does not know (``query_strings``), and whose
    routes document the refusals their kind implies (``refusals``)."""

    ARGUMENTS_PARSER = BodyParser()

    def _document_pagination_metadata(self, spec: Any, resp_doc: dict[str, Any]) -> None:
        """X-Pagination carries JSON: say so (flask-smorest's hook for this).

        flask-smorest documents it with a bare object ``schema``, which OpenAPI 3 reads as
        the ``simple`` style (``total,8,page,1``), not the JSON text the header holds.
        """
        resp_doc.setdefault("headers", {})[self.PAGINATION_HEADER_NAME] = {
            "description": "Pagination metadata, as JSON",
            "content": {"application/json": {"schema": PaginationMetadataSchema}},
        }
