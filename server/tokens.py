"""Opaque bearer tokens: random, shown once, stored only as their SHA-256."""

from __future__ import annotations

import hashlib
import secrets


def new_token() -> str:
    """A fresh 256-bit token, base64url without padding."""
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """What the database keeps of a token (a fast hash suffices: tokens are 256 random bits)."""
    return hashlib.sha256(token.encode()).hexdigest()
