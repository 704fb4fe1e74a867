"""Reading amounts and figures people and machines type: finite, bounded, or a ValueError.

``Decimal`` reads "Infinity", "NaN", "sNaN" and "1e9999" without complaint, and then
a comparison, ``quantize`` or ``int()`` raises far from the input. Every amount and
planning figure is read here first, so such a value is refused with a message the
sender can act on, where it was typed.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

# Far above any price, deal or plan, far below what a BIGINT of cents holds.
MAX_MAGNITUDE = Decimal(10) ** 12


def decimal(value: object) -> Decimal:
    """``value`` (a JSON number or text like "1,250.50" or "$12") as a finite Decimal.

    ``ValueError`` when it is not a number, not finite, or larger than any amount we keep.
    """
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        raise ValueError("must be a number like 1250.50")
    text = str(value).strip().replace("$", "").replace(",", "").strip()
    try:
        number = Decimal(text)
    except (InvalidOperation, ValueError):
        raise ValueError("must be a number like 1250.50") from None
    if not number.is_finite():
        raise ValueError("must be a finite number like 1250.50")
    if abs(number) > MAX_MAGNITUDE:
        raise ValueError(f"must be at most {MAX_MAGNITUDE:,.0f}")
    return number


def cents(value: object) -> int:
    """``value`` read by ``decimal`` in whole cents (half a cent rounds to even)."""
    return int((decimal(value) * 100).to_integral_value())
