"""The two ways an inbound document is refused: unreadable, or unsafe to read."""

from __future__ import annotations


class ParseError(ValueError):
    """The body is malformed; the message says where (line or row) and what to fix."""

    def __init__(self, message: str, *, line: int | None = None, row: int | None = None):
        super().__init__(message)
        self.message = message
        self.line = line
        self.row = row


class UnsafeDocument(ParseError):
    """The document tries something we refuse to do (entities, DTDs, XInclude, size, depth).

    A subclass of ``ParseError`` so a caller that only knows ``ParseError`` still
    answers 400; callers that care report it distinctly with ``isinstance``.
    """
