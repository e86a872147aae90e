"""The Blueprint every API module uses: flask-smorest's, stricter about JSON and queries."""

from __future__ import annotations

import json
from typing import Any

import flask_smorest
from flask import Request
from webargs.flaskparser import FlaskParser

from server.api.query_strings import StrictQueryMixin


class BodyParser(FlaskParser):
    """webargs' parser, also answering 400 for JSON the stdlib decoder cannot take."""

    def _raw_load_json(self, req: Request) -> Any:
        try:
            return super()._raw_load_json(req)
        except json.JSONDecodeError:
            raise  # webargs' own handling: 400, or "missing" for an empty body
        except (RecursionError, ValueError) as exc:
            # json.loads raises these, not JSONDecodeError, for arrays nested too deep and
            # for integers longer than Python converts (4300 digits): the client's fault.
            self._handle_invalid_json_error(exc, req)  # type: ignore[arg-type]


class Blueprint(StrictQueryMixin, flask_smorest.Blueprint):  # type: ignore[misc]
    """A flask-smorest Blueprint whose body parsing never turns bad JSON into a 500, and
    whose query strings refuse parameters the route does not know (``query_strings``)."""

    ARGUMENTS_PARSER = BodyParser()
