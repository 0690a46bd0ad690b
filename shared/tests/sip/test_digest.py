"""Digest client against the RFC examples and the rules of issue 9 (no retry loops)."""

from __future__ import annotations

import hashlib

import pytest
from shared.sip.digest import (
    Challenge,
    Credentials,
    DigestSession,
    authorization,
    choose,
    parse_challenges,
    response_value,
)

# RFC 7616 section 3.9.1 (the same request answered with MD5 and with SHA-256).
RFC7616_CHALLENGES = [
    'Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=SHA-256, '
    'nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", '
    'opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"',
    'Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=MD5, '
    'nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", '
    'opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"',
]
MUFASA = Credentials("Mufasa", "Circle of Life")
RFC7616_CNONCE = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ"


def test_rfc7616_md5_and_sha256_vectors() -> None:
    sha, md5 = parse_challenges(RFC7616_CHALLENGES)
    assert (sha.algorithm, md5.algorithm) == ("SHA-256", "MD5")
    assert sha.qop == ("auth", "auth-int")
    assert sha.opaque == "FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"
    assert response_value(md5, MUFASA, "GET", "/dir/index.html", cnonce=RFC7616_CNONCE) == (
        "8ca523f5e9506fed4657c9700eebdbec",
        "auth",
    )
    assert response_value(sha, MUFASA, "GET", "/dir/index.html", cnonce=RFC7616_CNONCE) == (
        "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1",
        "auth",
    )


def test_rfc2617_example_and_the_header_it_makes() -> None:
    (challenge,) = parse_challenges(
        [
            'Digest realm="testrealm@host.com", qop="auth,auth-int", '
            'nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", '
            'opaque="5ccc069c403ebaf9f0171e9517f40e41"'
        ]
    )
    name, value = authorization(
        challenge,
        Credentials("Mufasa", "Circle Of Life"),
        "GET",
        "/dir/index.html",
        nc=1,
        cnonce="0a4f113b",
    )
    assert name == "Authorization"
    assert 'response="6629fae49393a05397450978507c4ef1"' in value
    assert "qop=auth, nc=00000001, " in value
    assert 'cnonce="0a4f113b"' in value
    assert 'opaque="5ccc069c403ebaf9f0171e9517f40e41"' in value


def test_legacy_no_qop_response_is_rfc2069() -> None:
    (challenge,) = parse_challenges(['Digest realm="sip.example", nonce="abc"'])
    ha1 = hashlib.md5(b"alice:sip.example:secret").hexdigest()
    ha2 = hashlib.md5(b"INVITE:sip:bob@sip.example").hexdigest()
    expected = hashlib.md5(f"{ha1}:abc:{ha2}".encode()).hexdigest()
    digest, qop = response_value(
        challenge, Credentials("alice", "secret"), "INVITE", "sip:bob@sip.example"
    )
    assert (digest, qop) == (expected, None)
    _, value = authorization(challenge, Credentials("alice", "secret"), "INVITE", "sip:b@x")
    assert "nc=" not in value and "cnonce" not in value


def test_md5_sess_and_auth_int() -> None:
    (challenge,) = parse_challenges(
        ['Digest realm="r", nonce="n", algorithm=MD5-sess, qop="auth-int"']
    )
    creds = Credentials("u", "p")
    digest, qop = response_value(challenge, creds, "INVITE", "sip:x", cnonce="c", body=b"v=0")

    def md5(text: str) -> str:
        return hashlib.md5(text.encode()).hexdigest()

    ha1 = md5(f"{md5('u:r:p')}:n:c")
    ha2 = md5(f"INVITE:sip:x:{hashlib.md5(b'v=0').hexdigest()}")
    assert (digest, qop) == (md5(f"{ha1}:n:00000001:c:auth-int:{ha2}"), "auth-int")


def test_strongest_per_realm_and_every_realm_answered() -> None:
    challenges = parse_challenges(
        [
            'Digest realm="carrier", nonce="1", algorithm=MD5, qop="auth", '
            'Digest realm="carrier", nonce="2", algorithm=SHA-256, qop="auth"',
            'Digest realm="edge", nonce="3", algorithm=UNKNOWN-HASH',
            'Digest realm="edge", nonce="4"',
            'Basic realm="nope"',
        ],
        proxy=True,
    )
    chosen = choose(challenges)
    assert [(c.realm, c.nonce, c.proxy) for c in chosen] == [
        ("carrier", "2", True),
        ("edge", "4", True),
    ]


def test_quoted_values_with_commas_and_escapes() -> None:
    (challenge,) = parse_challenges(
        ['Digest realm="a, \\"quoted\\" realm",nonce="n=1,2",stale=TRUE,qop=auth']
    )
    assert challenge.realm == 'a, "quoted" realm'
    assert challenge.nonce == "n=1,2"
    assert challenge.stale and challenge.qop == ("auth",)
    _, value = authorization(challenge, Credentials("u", "p"), "BYE", "sip:x")
    assert 'realm="a, \\"quoted\\" realm"' in value


def test_session_retries_once_and_never_loops() -> None:
    session = DigestSession(Credentials("u", "p"))
    first = parse_challenges(['Digest realm="r", nonce="n1", qop="auth"'])
    assert session.learn(first, signed=False) is None
    headers = session.headers("INVITE", "sip:x")
    assert [name for name, _ in headers] == ["Authorization"]
    assert "nc=00000001" in headers[0][1]
    # The same nonce again: refused, however many times it comes.
    assert "same nonce" in (session.learn(first, signed=True) or "")
    # A new nonce without stale after we signed: the password is wrong.
    other = parse_challenges(['Digest realm="r", nonce="n2", qop="auth"'])
    assert "rejected" in (session.learn(other, signed=True) or "")
    # stale=true: the nonce only expired; one retry with the new one.
    stale = parse_challenges(['Digest realm="r", nonce="n3", qop="auth", stale=true'])
    assert session.learn(stale, signed=True) is None
    ((_, value),) = session.headers("BYE", "sip:x")
    assert 'nonce="n3"' in value and "nc=00000001" in value
    # Later requests of the dialog count up on the same nonce.
    assert "nc=00000002" in session.headers("BYE", "sip:x")[0][1]


def test_unsupported_only_is_a_reason() -> None:
    session = DigestSession(Credentials("u", "p"))
    odd = parse_challenges(['Digest realm="r", nonce="n", algorithm=SHA-1'])
    assert "no supported" in (session.learn(odd, signed=False) or "")


def test_credentials_repr_hides_the_password() -> None:
    assert "p4ss" not in repr(Credentials("u", "p4ss"))


@pytest.mark.parametrize("proxy", [False, True])
def test_header_name_follows_the_challenge(proxy: bool) -> None:
    challenge = Challenge(realm="r", nonce="n", proxy=proxy)
    name, _ = authorization(challenge, Credentials("u", "p"), "INVITE", "sip:x")
    assert name == ("Proxy-Authorization" if proxy else "Authorization")
