"""How requests, answers and their verdicts read on the delivery and destination pages.

A body that is JSON is shown once, indented (never a JSON string inside JSON);
anything else is shown as it came. A delivered or rejected answer is labelled by
what the answer rules read ("accepted", "rejected: ..."), not as an error.
"""

from __future__ import annotations

import json
import re
from typing import Any

_STATUS_PREFIX = re.compile(r"^HTTP \d{3}: ")


def pretty_body(text: str | None) -> str:
    """``text`` indented by two when it is a JSON object or array, else as it is."""
    if not text:
        return ""
    stripped = text.strip()
    if stripped[:1] not in ("{", "["):
        return text
    try:
        return json.dumps(json.loads(stripped), indent=2, ensure_ascii=False)
    except ValueError:
        return text


def pretty_data(value: Any) -> str:
    """A JSON-ready value as indented JSON text (the template escapes it, once)."""
    return json.dumps(value, indent=2, ensure_ascii=False, default=str)


def request_text(summary: str | None) -> str:
    """A stored request summary (JSON: method, url, headers, body) as the request reads:
    the request line, one header a line, a blank line, the body (indented if JSON)."""
    if not summary:
        return ""
    try:
        parsed: Any = json.loads(summary)
    except ValueError:
        return summary
    if not isinstance(parsed, dict) or "method" not in parsed:
        return pretty_body(summary)
    lines = [f"{parsed.get('method', '')} {parsed.get('url', '')}".strip()]
    headers = parsed.get("headers")
    if isinstance(headers, dict):
        lines += [f"{name}: {value}" for name, value in headers.items()]
    body = parsed.get("body")
    text = body if isinstance(body, str) else json.dumps(body, ensure_ascii=False)
    return "\n".join(lines) + "\n\n" + pretty_body(text)


def message_text(text: str | None) -> str:
    """A request shown as text (head, blank line, body) with its body indented if JSON."""
    if not text:
        return ""
    head, blank, body = text.partition("\n\n")
    return head + blank + pretty_body(body) if blank else text


def answer_reading(outcome: str | None, detail: str | None) -> tuple[str, str]:
    """(label, text) for what came of one send: "Read as" with "accepted" or
    "rejected: why" when the other side answered, "Error" with the detail otherwise."""
    detail = detail or ""
    if outcome == "delivered":
        rest = _STATUS_PREFIX.sub("", detail)
        notes = rest.removeprefix("accepted").lstrip("; ").strip()
        return "Read as", "accepted" + (f" ({notes})" if notes else "")
    if outcome == "rejected" and _STATUS_PREFIX.match(detail):
        rest = _STATUS_PREFIX.sub("", detail)
        for said in ("rejected: ", "not accepted: "):
            rest = rest.removeprefix(said)
        return "Read as", f"rejected: {rest}"
    return "Error", detail or "—"
