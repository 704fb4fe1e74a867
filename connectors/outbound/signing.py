"""Standard Webhooks signatures: what we add to every post and how a receiver checks it.

The signed content is ``{webhook-id}.{webhook-timestamp}.{body}`` and the
signature header is ``v1,<base64 HMAC-SHA256>``; several signatures may be
given space-separated while a secret is being rotated. A secret written
``whsec_<base64>`` (the Standard Webhooks form, see ``generate_secret``) is
decoded to its key bytes; any other string is used as its UTF-8 bytes.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import time
from collections.abc import Mapping

SECRET_PREFIX = "whsec_"  # noqa: S105 - the Standard Webhooks marker, not a secret
DEFAULT_TOLERANCE = 300


class SignatureInvalid(ValueError):
    """A webhook's id, timestamp or signature does not check out; the message says which."""


def generate_secret() -> str:
    """A new signing secret in the Standard Webhooks form (``whsec_`` + 24 random bytes)."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(24)).decode("ascii")


def sign(webhook_id: str, timestamp: int, body: bytes, secret: str | bytes) -> str:
    """The ``webhook-signature`` value for this id, timestamp and body."""
    content = f"{webhook_id}.{int(timestamp)}.".encode() + body
    digest = hmac.new(_key(secret), content, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def webhook_headers(
    webhook_id: str, timestamp: int, body: bytes, secret: str | bytes | None
) -> dict[str, str]:
    """The three Standard Webhooks headers (no signature when there is no secret)."""
    if not webhook_id or any(c.isspace() or c == "," for c in webhook_id):
        # The id is a header value and part of the signed content: keep it one plain token.
        raise ValueError("webhook_id must be non-empty, without spaces, commas or newlines")
    headers = {"webhook-id": webhook_id, "webhook-timestamp": str(int(timestamp))}
    if secret:
        headers["webhook-signature"] = sign(webhook_id, timestamp, body, secret)
    return headers


def verify(
    body: bytes,
    headers: Mapping[str, str],
    secret: str | bytes,
    *,
    tolerance: int = DEFAULT_TOLERANCE,
    now: float | None = None,
) -> None:
    """Check a received webhook; ``SignatureInvalid`` says what is wrong.

    The timestamp must be within ``tolerance`` seconds of ``now`` (replays of old
    messages fail) and one of the ``v1`` signatures must match, compared in
    constant time.
    """
    lowered = {key.lower(): value for key, value in headers.items()}
    webhook_id = lowered.get("webhook-id")
    stamp = lowered.get("webhook-timestamp")
    given = lowered.get("webhook-signature")
    if not webhook_id or not stamp or not given:
        raise SignatureInvalid("webhook-id, webhook-timestamp and webhook-signature are required")
    try:
        timestamp = int(stamp)
    except ValueError:
        raise SignatureInvalid(f"webhook-timestamp {stamp[:20]!r} is not unix seconds") from None
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance:
        raise SignatureInvalid(
            f"webhook-timestamp is {int(current - timestamp)} s away from now; "
            f"the tolerance is {tolerance} s"
        )
    expected = sign(webhook_id, timestamp, body, secret).partition(",")[2].encode()
    for candidate in given.split():
        version, _, value = candidate.partition(",")
        if version == "v1" and hmac.compare_digest(value.encode(), expected):
            return
    raise SignatureInvalid("no webhook-signature matches the body and secret")


def _key(secret: str | bytes) -> bytes:
    if isinstance(secret, bytes):
        return secret
    if secret.startswith(SECRET_PREFIX):
        try:
            return base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)
        except binascii.Error:
            raise ValueError("a whsec_ secret must be base64 after the prefix") from None
    return secret.encode()
