"""The errors outbound settings raise: values the vendor settings form can show."""

from __future__ import annotations

import socket


class ConnectorError(ValueError):
    """A destination's settings cannot produce a message; ``setting`` names the culprit.

    Raised at render time (and when settings are saved) so the form can show the
    message next to the field it is about.
    """

    def __init__(self, setting: str, message: str):
        super().__init__(f"{setting}: {message}")
        self.setting = setting
        self.message = message


def no_such_host(host: str, exc: BaseException | None = None) -> str:
    """What a failed DNS lookup of ``host`` reads as: no errno, no resolver jargon."""
    code = getattr(exc, "errno", None)
    if code is None or code in _NO_NAME:
        return f"no such host: {host}"
    reason = getattr(exc, "strerror", None) or str(exc)
    return f"could not look up {host} ({reason.lower()}); it is tried again later"


def unreachable(host: str, port: int, exc: BaseException | None = None, limit: float = 0) -> str:
    """What a connection that could not be opened reads as, by its cause.

    A refused connection, a timeout and an unreachable network each say so: the
    vendor fixes a wrong port differently from a firewall. (The time each attempt
    took is shown beside it anyway, so merging the three would hide nothing.)
    """
    shown = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    cause = _cause(exc)
    if isinstance(cause, socket.gaierror):
        return no_such_host(host, cause)
    if isinstance(cause, ConnectionRefusedError):
        return f"connection refused by {shown}"
    if isinstance(cause, TimeoutError) or _named_timeout(exc):
        return f"no answer within {limit:g} s from {shown}" if limit else f"no answer from {shown}"
    reason = getattr(cause, "strerror", None)
    return f"could not reach {shown}" + (f": {reason.lower()}" if reason else "")


# getaddrinfo's "this name has no address" codes (EAI_NODATA is missing on some systems).
_NO_NAME = {getattr(socket, name) for name in ("EAI_NONAME", "EAI_NODATA") if hasattr(socket, name)}


def _cause(exc: BaseException | None) -> BaseException | None:
    """The innermost OS-level error behind ``exc`` (httpx and smtplib wrap them)."""
    seen = exc
    found: BaseException | None = None
    while seen is not None:
        if isinstance(seen, OSError):
            found = seen
        seen = seen.__cause__ or seen.__context__
    return found


def _named_timeout(exc: BaseException | None) -> bool:
    seen = exc
    while seen is not None:
        if "timeout" in type(seen).__name__.lower():
            return True
        seen = seen.__cause__ or seen.__context__
    return False
