"""What the admin pages share: who opens them, the version a change form carries, and the
page number of a list."""

from __future__ import annotations

from flask import request

from server.console.forms import Form
from server.models import Role

ADMIN = (Role.ADMIN,)
PAGE_SIZE = 50


def form_version(form: Form) -> int | None:
    """The record's version the form was rendered with, or None (and a message) if lost."""
    text = request.form.get("version", "").strip()
    if text.isascii() and text.isdigit() and int(text) > 0:
        return int(text)
    form.message = "Reload the page: the form lost the record's version."
    return None


def page_number() -> int:
    """The ``page`` query parameter (1 when absent or not a positive number)."""
    text = request.args.get("page", "")
    return int(text) if text.isascii() and text.isdigit() and int(text) > 0 else 1
