"""Form fields shared by the portal's forms."""

from __future__ import annotations

from typing import Any

from wtforms import DecimalField

from distribution import money


class FiniteDecimalField(DecimalField):
    """A ``DecimalField`` that refuses Infinity, NaN and absurd exponents as it reads them.

    WTForms' own field takes them, and then a range check or the re-rendering of the
    form (``quantize``) raises: a 500 instead of a message beside the field.
    """

    def process_formdata(self, valuelist: list[Any]) -> None:
        if not valuelist:
            return
        try:
            self.data = money.decimal(valuelist[0])
        except ValueError as exc:
            self.data = None
            raise ValueError(self.gettext(str(exc).capitalize())) from None
