"""The errors outbound settings raise: values the vendor settings form can show."""

from __future__ import annotations


class ConnectorError(ValueError):
    """A destination's settings cannot produce a message; ``setting`` names the culprit.

    Raised at render time (and when settings are saved) so the form can show the
    message next to the field it is about.
    """

    def __init__(self, setting: str, message: str):
        super().__init__(f"{setting}: {message}")
        self.setting = setting
        self.message = message


def unreachable(host: str, port: int) -> str:
    """The one detail shown when a connection cannot be opened, whatever the cause.

    A refused connection, a timeout and an unreachable network read the same, so the
    delivery log and the "send a test" result cannot be used to tell a closed port
    from a filtered one (a port scanner run through our servers).
    """
    shown = f"[{host}]" if ":" in host else host
    return f"could not reach {shown}:{port} (no connection: refused, timed out or unreachable)"
