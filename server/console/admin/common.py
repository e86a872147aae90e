"""What the admin pages share: who opens them, their lists' page size, and the version a
change form carries."""

from __future__ import annotations

from flask import request

from server.console import paging
from server.console.forms import Form
from server.models import Role

ADMIN = (Role.ADMIN,)
PAGE_SIZE = paging.PAGE_SIZE


def form_version(form: Form) -> int | None:
    """The record's version the form was rendered with, or None (and a message) if lost."""
    text = request.form.get("version", "").strip()
    if text.isascii() and text.isdigit() and int(text) > 0:
        return int(text)
    form.message = "Reload the page: the form lost the record's version."
    return None
