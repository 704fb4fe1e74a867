"""Rules in words: what an action does, and how a draft differs from the published set.

Partners are named, never numbered: every function takes ``names`` (partner id ->
name) and falls back to "a partner that no longer exists" for an id it lacks.
Pure functions over rule dicts (``rules.rule_data``), so the words are testable alone.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from distribution.routing.conditions import describe

Names = Mapping[int, str]
_WINDOWS = (
    ("acceptance_window_hours", "acceptance window"),
    ("followup_sla_hours", "follow-up SLA"),
    ("exclusive_hours", "exclusive hours"),
)


def partner_name(value: Any, names: Names) -> str:
    """The partner's name for an id as stored (int or digits)."""
    try:
        return names[int(value)]
    except (KeyError, TypeError, ValueError):
        return "a partner that no longer exists"


def describe_group(group: Mapping[str, Any]) -> str:
    """``resellers, tier gold, in their territory, selling the product``."""
    parts = []
    if group.get("kind"):
        parts.append(f"kind {group['kind']}")
    if group.get("tier"):
        parts.append(f"tier {group['tier']}")
    parts.append("in their territory" if group.get("territory", True) else "any territory")
    parts.append("selling the product" if group.get("products", True) else "any product")
    return ", ".join(parts)


def describe_action(rule: Mapping[str, Any], names: Names) -> str:
    """``push to West Coast``: a rule's action and its settings as a person reads them."""
    action = str(rule.get("action") or "")
    params = rule.get("action_params")
    params = params if isinstance(params, Mapping) else {}
    strategy = str(params.get("strategy") or "round_robin").replace("_", " ")
    if strategy == "account owner":
        strategy = "the account's owner first, else round robin"
    partners = [params["partner_id"]] if params.get("partner_id") not in (None, "") else []
    if isinstance(params.get("partner_ids"), list):
        partners += params["partner_ids"]
    who = ", ".join(partner_name(p, names) for p in partners)
    group = params.get("group") if isinstance(params.get("group"), Mapping) else None
    if action == "push_partner":
        return f"push to {who or 'no partner'}"
    if action == "push_group":
        return f"push to the group ({describe_group(group or {})}), {strategy}"
    if action == "pool":
        days = f" for {params['pool_days']} days" if params.get("pool_days") else ""
        return f"pool for the group ({describe_group(group or {})}){days}"
    if action == "hybrid":
        target = f"the group ({describe_group(group)}), {strategy}" if group else who
        return f"offer to {target} first, then pool"
    if action == "sell":
        return f"sell to buyers, unsold to {params.get('fallback') or 'hold'}"
    if action == "hold":
        return "hold for a person to decide"
    return action.replace("_", " ")


def describe_rule(rule: Mapping[str, Any], names: Names) -> str:
    """``when country is US: push to West Coast``."""
    conditions = rule.get("conditions") or []
    when = " and ".join(describe(c) for c in conditions) if conditions else "always"
    return f"when {when}: {describe_action(rule, names)}"


def describe_changes(
    published: Sequence[Mapping[str, Any]], draft: Sequence[Mapping[str, Any]], names: Names
) -> list[str]:
    """Each difference of ``draft`` from ``published`` as a sentence, in the draft's order.

    Rules are matched by name (the first unmatched rule of the same name): a name only
    in the draft is an added rule, one only in the published set a removed one; a
    matched rule reports what changed in it and whether it moved.
    """
    remaining = list(enumerate(published, start=1))
    lines: list[str] = []
    kept: list[tuple[int, int, str]] = []  # (old position, new position, name)
    for position, rule in enumerate(draft, start=1):
        name = str(rule.get("name") or "")
        match = next((item for item in remaining if item[1].get("name") == name), None)
        if match is None:
            lines.append(f"Added rule {position} “{name}”: {describe_rule(rule, names)}.")
            continue
        remaining.remove(match)
        old_position, old = match
        kept.append((old_position, position, name))
        lines += [f"Changed rule “{name}”: {what}." for what in _rule_changes(old, rule, names)]
    for old_position, rule in remaining:
        lines.append(f"Removed rule {old_position} “{rule.get('name')}”.")
    order = [old for old, _, _ in kept]
    if order != sorted(order):
        lines += [
            f"Moved rule “{name}” from position {old} to {new}."
            for old, new, name in kept
            if old != new
        ]
    return lines


def _rule_changes(old: Mapping[str, Any], new: Mapping[str, Any], names: Names) -> list[str]:
    changes = []
    if bool(old.get("enabled", True)) != bool(new.get("enabled", True)):
        changes.append("turned on" if new.get("enabled", True) else "turned off")
    before = [describe(c) for c in old.get("conditions") or []]
    after = [describe(c) for c in new.get("conditions") or []]
    changes += [f"condition added: {c}" for c in after if c not in before]
    changes += [f"condition removed: {c}" for c in before if c not in after]
    was, now = describe_action(old, names), describe_action(new, names)
    if was != now:
        changes.append(f"action {was} → {now}")
    for key, words in _WINDOWS:
        a, b = old.get(key), new.get(key)
        if a != b:
            changes.append(f"{words} {_hours(a)} → {_hours(b)}")
    return changes


def _hours(value: Any) -> str:
    return "vendor default" if value in (None, "") else f"{value} h"
