"""Inbound lead formats, parsed without a database or Flask: bytes in, lead dicts out.

Every parser returns plain ``dict[str, str]`` leads using the canonical keys in
``connectors.fields.LEAD_FIELDS`` plus any other input field under its own name,
and raises ``connectors.errors.ParseError`` (or its ``UnsafeDocument`` subclass).
"""
