"""Query strings are checked whole: a parameter no parser of the route knows is a 422.

webargs loads query arguments with ``unknown=EXCLUDE``, and it has to: a paginated list
parses one query string with two schemas (its filters, then flask-smorest's ``page`` and
``page_size``), so neither schema alone may refuse the other's names. Silence was worse:
``GET /visits?order_id=…`` answered every visit, and an ignored filter shows a coordinator
the wrong visits. Each decorator that reads the query string adds its names to one set
shared by every layer of the view (``functools.wraps`` copies the attribute holding it), and
each layer refuses, before it parses, any name outside that set.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar, cast

from flask import request
from marshmallow import Schema
from webargs.flaskparser import abort

View = Callable[..., Any]
F = TypeVar("F", bound=View)

UNKNOWN_MESSAGE = "Unknown query parameter."
# flask-smorest's pagination schema reads these two names (its documented parameters).
PAGINATION_NAMES = frozenset({"page", "page_size"})
_NAMES_ATTRIBUTE = "_infusync_query_names"


def schema_names(schema: type[Schema] | Schema) -> set[str]:
    """The query names a schema loads (``data_key`` when it has one)."""
    instance = schema() if isinstance(schema, type) else schema
    return {field.data_key or name for name, field in instance.fields.items()
            if not field.dump_only}


def _known_names(view: View) -> set[str]:
    """The set of query names shared by every decorator layer of ``view``."""
    names: set[str] | None = getattr(view, _NAMES_ATTRIBUTE, None)
    if names is None:
        names = set()
        setattr(view, _NAMES_ATTRIBUTE, names)
    return names


def refusing_unknown(decorator: Callable[[F], F], names: frozenset[str] | set[str]
                     ) -> Callable[[F], F]:
    """Wrap a query-reading decorator so the view refuses names no layer declared."""

    def apply(view: F) -> F:
        known = _known_names(view)
        known.update(names)
        parsed = decorator(view)

        @functools.wraps(parsed)
        def checked(*args: Any, **kwargs: Any) -> Any:
            unknown = sorted(set(request.args) - known)
            if unknown:
                abort(422, messages={"query": {name: [UNKNOWN_MESSAGE] for name in unknown}})
            return parsed(*args, **kwargs)

        return cast(F, checked)

    return apply


class StrictQueryMixin:
    """Blueprint methods that read the query string, made to refuse unknown names."""

    def arguments(self, schema: type[Schema] | Schema, *, location: str = "json",
                  **kwargs: Any) -> Callable[[F], F]:
        """flask-smorest's ``arguments``; for the query string, unknown names are a 422."""
        decorator: Callable[[F], F] = super().arguments(  # type: ignore[misc]
            schema, location=location, **kwargs)
        if location != "query":
            return decorator
        return refusing_unknown(decorator, schema_names(schema))

    def paginate(self, pager: Any = None, **kwargs: Any) -> Callable[[F], F]:
        """flask-smorest's ``paginate``; ``page`` and ``page_size`` join the known names."""
        decorator: Callable[[F], F] = super().paginate(pager, **kwargs)  # type: ignore[misc]
        return refusing_unknown(decorator, PAGINATION_NAMES)
