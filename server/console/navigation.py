"""The console's navigation: which pages each role sees in the header.

A page module adds its entry with ``add`` at import time; the base layout shows the
entries open to the signed-in user's role, in ``order``. The same ``roles`` guard the view
(``login_required(*roles)``), so a link is never shown to someone the page would refuse.
"""

from __future__ import annotations

from dataclasses import dataclass

from server.models import Role


@dataclass(frozen=True)
class NavItem:
    """One header link: the view's endpoint, its label, who sees it, where it sits."""

    endpoint: str
    label: str
    roles: frozenset[Role]
    order: int


_ITEMS: dict[str, NavItem] = {}


def add(endpoint: str, label: str, roles: tuple[Role, ...], order: int) -> None:
    """Register a header link (once per endpoint; importing twice changes nothing)."""
    _ITEMS[endpoint] = NavItem(endpoint, label, frozenset(roles), order)


def items_for(role: Role) -> list[NavItem]:
    """The links ``role`` sees, in order."""
    return sorted((item for item in _ITEMS.values() if role in item.roles),
                  key=lambda item: (item.order, item.label))
