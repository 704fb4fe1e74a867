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
