"""Standard Webhooks signatures: the published example, and what verify() refuses."""

from __future__ import annotations

import pytest

from connectors.outbound import SignatureInvalid, generate_secret, sign, verify
from connectors.outbound.signing import webhook_headers

# The example from the Standard Webhooks specification and reference libraries.
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
MSG_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
STAMP = 1614265330
BODY = b'{"test": 2432232314}'
SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def headers(**changes: str) -> dict[str, str]:
    base = {"webhook-id": MSG_ID, "webhook-timestamp": str(STAMP), "webhook-signature": SIGNATURE}
    return {**base, **changes}


def test_the_published_example_signs_to_the_published_signature():
    assert sign(MSG_ID, STAMP, BODY, SECRET) == SIGNATURE


def test_verify_accepts_it_within_the_tolerance_and_any_header_case():
    verify(BODY, headers(), SECRET, now=STAMP + 10)
    verify(BODY, {k.title(): v for k, v in headers().items()}, SECRET, now=STAMP - 10)


def test_one_matching_signature_among_several_is_enough():
    rotated = f"v1,bm90LXRoaXMtb25l {SIGNATURE} v2,whatever"
    verify(BODY, headers(**{"webhook-signature": rotated}), SECRET, now=STAMP)


@pytest.mark.parametrize(
    ("body", "changes", "secret", "message"),
    [
        (BODY + b" ", {}, SECRET, "no webhook-signature matches"),
        (BODY, {"webhook-id": "msg_other"}, SECRET, "no webhook-signature matches"),
        (BODY, {}, generate_secret(), "no webhook-signature matches"),
        (BODY, {"webhook-timestamp": str(STAMP - 301)}, SECRET, "tolerance"),
        (BODY, {"webhook-timestamp": "yesterday"}, SECRET, "unix seconds"),
        (BODY, {"webhook-signature": ""}, SECRET, "required"),
        (BODY, {"webhook-signature": "v2," + SIGNATURE[3:]}, SECRET, "no webhook-signature"),
    ],
)
def test_verify_refuses_what_does_not_check_out(body, changes, secret, message):
    with pytest.raises(SignatureInvalid, match=message):
        verify(body, headers(**changes), secret, now=STAMP)


def test_a_plain_string_secret_is_used_as_its_bytes():
    assert sign("m", 1, b"x", "plain") == sign("m", 1, b"x", b"plain")
    assert sign("m", 1, b"x", "plain") != sign("m", 1, b"x", "other")


def test_generated_secrets_are_distinct_and_in_the_standard_form():
    first, second = generate_secret(), generate_secret()
    assert first.startswith("whsec_") and first != second
    verify(b"{}", webhook_headers("msg_1", STAMP, b"{}", first), first, now=STAMP)


def test_an_id_that_could_break_the_header_is_refused():
    with pytest.raises(ValueError, match="webhook_id"):
        webhook_headers("msg 1\r\nX: y", STAMP, b"", SECRET)
