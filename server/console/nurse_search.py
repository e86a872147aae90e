"""Picking a nurse by name where a console form asks for one (a device's enrollment code,
a training module's audience by name): a search box narrows the choices, so an agency
with sixty nurses and more never scrolls a list of them all.

The search is a plain field (``nurse_q``) sent with the page's own GET or with a "Find"
button of its form, so it works without script; the choices come from
``services.users.list_users`` (active nurses, any part of the name or e-mail), as the API
lists users. The visit page's candidates search the same way through ``visit_page``.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from flask import request

from server.api.access import access_for
from server.extensions import current_session
from server.models import Role, User
from server.services import users

FIELD = "nurse_q"
CHOICES = 25  # the nurses shown at once, without a search or for a broad one
LONGEST = 100  # a name or e-mail is shorter; more is cut, not refused


@dataclass(frozen=True)
class NurseChoices:
    """The nurses a form offers: those chosen already, then the search's first matches."""

    query: str
    nurses: list[User]
    matched: int
    shown: int

    @property
    def more(self) -> int:
        """How many matches the search leaves out (narrow it to reach them)."""
        return self.matched - self.shown


def nurse_query() -> str:
    """What was typed in the nurse search, from the query or the posted form."""
    return request.values.get(FIELD, "").strip()[:LONGEST]


def _ids(texts: Iterable[str]) -> list[uuid.UUID]:
    found = []
    for text in texts:
        try:
            found.append(uuid.UUID(text))
        except ValueError:
            continue  # the schema refuses it with its message when the form is saved
    return found


def nurse_choices(query: str, chosen: Iterable[str] = ()) -> NurseChoices:
    """The nurses ``query`` finds (the first ``CHOICES`` by name), after the ``chosen`` ones
    (ids already on the form), so a search never drops a nurse the form names."""
    session, access = current_session(), access_for()
    found = users.list_users(session, {"role": Role.NURSE.value, "active": True,
                                       "q": query}, access, 1, CHOICES)
    wanted = [i for i in _ids(chosen) if i not in {nurse.id for nurse in found.items}]
    kept = users.list_users(session, {"ids": wanted}, access, 1, len(wanted)).items \
        if wanted else []
    return NurseChoices(query, [*kept, *found.items], found.total, len(found.items))
