"""External lead buyers: who may buy a lead, selling it, returns and the ledger.

``lineup`` says which buyers may take a lead and why the others may not;
``sell`` offers it to them (ping/post where a buyer asks for it) and books each
sale in the ledger; ``request_return`` and ``approve_return`` credit a returned
lead; ``statement`` is a buyer's month, read from the ledger.
"""

from distribution.buyers.eligibility import BuyerCandidate, lineup, period_start, price_for
from distribution.buyers.returns import (
    RETURN_REASONS,
    ReturnRefused,
    approve_return,
    reasons_by_source,
    refuse_return,
    request_return,
    return_rate,
)
from distribution.buyers.selling import SaleOutcome, lock_buyers, ping_payload, sell
from distribution.buyers.statements import Statement, StatementRow, balance, statement

__all__ = [
    "RETURN_REASONS",
    "BuyerCandidate",
    "ReturnRefused",
    "SaleOutcome",
    "Statement",
    "StatementRow",
    "approve_return",
    "balance",
    "lineup",
    "lock_buyers",
    "period_start",
    "ping_payload",
    "price_for",
    "reasons_by_source",
    "refuse_return",
    "request_return",
    "return_rate",
    "sell",
    "statement",
]
