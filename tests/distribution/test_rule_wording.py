"""A draft's difference from the published rules, in words, with partners named."""

from __future__ import annotations

from distribution.routing.wording import describe_action, describe_changes

NAMES = {7: "West Coast", 8: "East Coast"}
US = {"field": "country", "op": "in", "value": ["US"]}
CA = {"field": "state", "op": "in", "value": ["CA"]}


def rule(name, action="push_partner", conditions=(), **kw):
    params = kw.pop("params", {"partner_id": 7} if action == "push_partner" else {})
    return {"name": name, "enabled": True, "conditions": list(conditions), "action": action,
            "action_params": params, **kw}  # fmt: skip


def test_the_same_rules_have_no_changes():
    rules = [rule("West", conditions=[US]), rule("Rest", "hold")]
    assert describe_changes(rules, [dict(r) for r in rules], NAMES) == []


def test_an_added_and_a_removed_rule_are_named_with_their_partner():
    published = [rule("Old", "hold")]
    draft = [rule("West", conditions=[US])]
    assert describe_changes(published, draft, NAMES) == [
        "Added rule 1 “West”: when country is one of US: push to West Coast.",
        "Removed rule 1 “Old”.",
    ]


def test_a_changed_rule_says_what_changed():
    published = [rule("West", conditions=[US], acceptance_window_hours=12)]
    draft = [rule("West", conditions=[US, CA], params={"partner_id": 8}, enabled=False,
                  acceptance_window_hours=48)]  # fmt: skip
    assert describe_changes(published, draft, NAMES) == [
        "Changed rule “West”: turned off.",
        "Changed rule “West”: condition added: state is one of CA.",
        "Changed rule “West”: action push to West Coast → push to East Coast.",
        "Changed rule “West”: acceptance window 12 h → 48 h.",
    ]


def test_a_reordered_set_says_which_rules_moved():
    a, b, c = rule("A", "hold"), rule("B", "hold"), rule("C", "hold")
    assert describe_changes([a, b, c], [c, a, b], NAMES) == [
        "Moved rule “C” from position 3 to 1.",
        "Moved rule “A” from position 1 to 2.",
        "Moved rule “B” from position 2 to 3.",
    ]


def test_a_partner_that_is_gone_is_never_shown_as_a_number():
    text = describe_action(rule("X", params={"partner_id": 99}), NAMES)
    assert text == "push to a partner that no longer exists"
    group = rule("G", "push_group", params={"group": {"kind": "reseller", "territory": True},
                                           "strategy": "least_loaded"})  # fmt: skip
    assert describe_action(group, NAMES) == (
        "push to the group (kind reseller, in their territory, selling the product), least loaded"
    )
