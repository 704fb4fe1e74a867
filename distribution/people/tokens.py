"""The secret in an e-mailed link: 256 random bits, kept only as a SHA-256."""

from __future__ import annotations

import hashlib
import secrets


def new_token() -> tuple[str, str]:
    """A fresh token and the digest to store in its place."""
    token = secrets.token_urlsafe(32)
    return token, digest(token)


def digest(token: str) -> str:
    """The SHA-256 a token is looked up by (fast is enough: tokens are long and random)."""
    return hashlib.sha256(token.encode()).hexdigest()


def well_formed(token: str) -> bool:
    """Worth a database lookup: the length and alphabet ``new_token`` produces."""
    return 20 <= len(token) <= 100 and all(c.isalnum() or c in "-_" for c in token)
