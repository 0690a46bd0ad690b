from __future__ import annotations

import pytest
from call_manager.dialing.invite import InviteError, ProviderRoute, build_invite

PROVIDER = ProviderRoute(
    hostname="sip.carrier.example:5070",
    tech_prefix="00",
    tech_postfix="#1",
    tech_headers=(("X-Campaign-Id", "c-42"), ("x-lower", "v")),
)
SOURCE = {"type": "tel", "target": "+14155551234", "target_name": "Alice"}
TEL = {"type": "tel", "target": "+821012345678", "target_name": ""}


def test_tel_destination_gets_prefix_postfix_and_provider_host() -> None:
    spec = build_invite(PROVIDER, SOURCE, TEL, "no")
    assert spec.request_uri == "sip:00+821012345678%231@sip.carrier.example:5070"
    assert spec.next_hop == "sip.carrier.example:5070"
    assert spec.extra_headers == (("X-Campaign-Id", "c-42"), ("x-lower", "v"))
    assert (spec.from_user, spec.from_display, spec.anonymous) == ("+14155551234", "Alice", False)
    assert spec.privacy is None and spec.asserted_identity is None


def test_sip_destination_keeps_its_uri_with_the_provider_as_next_hop() -> None:
    spec = build_invite(PROVIDER, SOURCE, {"type": "sip", "target": "bob@pbx.example"}, "auto")
    assert spec.request_uri == "sip:bob@pbx.example"
    assert spec.next_hop == "sip.carrier.example:5070"


def test_anonymous_yes_hides_from_and_asserts_the_real_number() -> None:
    spec = build_invite(PROVIDER, SOURCE, TEL, "yes")
    assert spec.anonymous is True
    assert spec.privacy == "id"
    assert spec.asserted_identity == "+14155551234"


def test_sip_source_splits_user_and_host() -> None:
    spec = build_invite(PROVIDER, {"type": "sip", "target": "alice@example.com"}, TEL, "auto")
    assert (spec.from_user, spec.from_host) == ("alice", "example.com")


@pytest.mark.parametrize(
    "headers",
    [(("X-Bad", "a\r\nVia: injected"),), (("Privacy", "none"),), (("Bad Name", "v"),)],
)
def test_unsafe_tech_headers_refuse_the_invite(headers: tuple[tuple[str, str], ...]) -> None:
    provider = ProviderRoute(hostname="sip.carrier.example", tech_headers=headers)
    with pytest.raises(InviteError):
        build_invite(provider, SOURCE, TEL, "no")


def test_affix_characters_that_would_break_the_uri_are_escaped() -> None:
    spec = build_invite(ProviderRoute(hostname="h.example", tech_prefix="a>b@"), SOURCE, TEL, "no")
    assert spec.request_uri == "sip:a%3Eb%40+821012345678@h.example"
