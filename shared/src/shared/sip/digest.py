"""SIP Digest authentication, client side (RFC 3261 section 22, RFC 7616, RFC 8760).

Pure functions and a small per-dialog state; no I/O. A 401 carries WWW-Authenticate and is
answered with Authorization, a 407 carries Proxy-Authenticate and is answered with
Proxy-Authorization; one response may hold several challenges (several realms, or one realm
offering several algorithms): `choose()` takes, per realm, the strongest algorithm we support
(SHA-512-256 > SHA-256 > MD5; `-sess` variants included).

qop: `auth` when offered; `auth-int` (the body is hashed too) when it is the only choice;
without qop the legacy RFC 2069 response. nc counts, per nonce, the requests we signed.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

WWW_AUTHENTICATE = "www-authenticate"
PROXY_AUTHENTICATE = "proxy-authenticate"

# Algorithm name -> hash; strength order for choose() is this dict's order, best first.
_ALGORITHMS: dict[str, Callable[[bytes], str]] = {}
if "sha512_256" in hashlib.algorithms_available:

    def _sha512_256(data: bytes) -> str:
        return hashlib.new("sha512_256", data).hexdigest()

    _ALGORITHMS["SHA-512-256"] = _sha512_256
_ALGORITHMS["SHA-256"] = lambda data: hashlib.sha256(data).hexdigest()
_ALGORITHMS["MD5"] = lambda data: hashlib.md5(data, usedforsecurity=False).hexdigest()

# auth-param = token "=" ( token / quoted-string ), RFC 7235 section 2.1.
_PARAM = re.compile(
    r'\s*([A-Za-z0-9!#$%&\'*+.^_`|~-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^\s,"]*)\s*(,|$)', re.S
)
_SCHEME = re.compile(r"\s*([A-Za-z0-9!#$%&'*+.^_`|~-]+)(?:\s+|$)")
_UNESCAPE = re.compile(r"\\(.)", re.S)


class DigestError(ValueError):
    """A challenge we cannot answer (unknown algorithm or qop, missing nonce)."""


@dataclass(frozen=True, slots=True)
class Challenge:
    """One Digest challenge as the server sent it (names lower-cased)."""

    realm: str
    nonce: str
    algorithm: str = "MD5"  # as sent, upper-cased; "-SESS" suffix kept
    qop: tuple[str, ...] = ()
    opaque: str | None = None
    stale: bool = False
    proxy: bool = False  # 407 / Proxy-Authenticate
    userhash: bool = False

    @property
    def base_algorithm(self) -> str:
        return self.algorithm.removesuffix("-SESS")

    @property
    def sess(self) -> bool:
        return self.algorithm.endswith("-SESS")

    @property
    def supported(self) -> bool:
        return self.base_algorithm in _ALGORITHMS and (
            not self.qop or "auth" in self.qop or "auth-int" in self.qop
        )

    @property
    def strength(self) -> int:
        order = list(_ALGORITHMS)
        return len(order) - order.index(self.base_algorithm) if self.supported else 0


@dataclass(frozen=True, slots=True)
class Credentials:
    username: str
    password: str = field(repr=False)

    def __repr__(self) -> str:  # dataclass repr would be fine, but be explicit: no password
        return f"Credentials(username={self.username!r})"


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return _UNESCAPE.sub(r"\1", value[1:-1])
    return value


def _split_challenges(value: str) -> list[tuple[str, dict[str, str]]]:
    """`Digest a=1, b="2", Digest a=3` -> [("digest", {...}), ("digest", {...})]."""
    out: list[tuple[str, dict[str, str]]] = []
    pos = 0
    current: dict[str, str] | None = None
    while pos < len(value):
        while pos < len(value) and value[pos] in " \t,":
            pos += 1
        if pos >= len(value):
            break
        param = _PARAM.match(value, pos)
        if param is not None and current is not None:
            current[param.group(1).lower()] = _unquote(param.group(2))
            pos = param.end()
            continue
        scheme = _SCHEME.match(value, pos)
        if scheme is None:
            break  # garbage: keep what was understood so far
        current = {}
        out.append((scheme.group(1).lower(), current))
        pos = scheme.end()
    return out


def parse_challenges(values: Iterable[str], *, proxy: bool = False) -> list[Challenge]:
    """Every Digest challenge in these header values (other schemes are skipped)."""
    found: list[Challenge] = []
    for value in values:
        for scheme, params in _split_challenges(value):
            if scheme != "digest" or "nonce" not in params:
                continue
            qop = tuple(q.strip().lower() for q in params.get("qop", "").split(",") if q.strip())
            found.append(
                Challenge(
                    realm=params.get("realm", ""),
                    nonce=params["nonce"],
                    algorithm=(params.get("algorithm") or "MD5").upper(),
                    qop=qop,
                    opaque=params.get("opaque"),
                    stale=params.get("stale", "").lower() == "true",
                    proxy=proxy,
                    userhash=params.get("userhash", "").lower() == "true",
                )
            )
    return found


def choose(challenges: Iterable[Challenge]) -> list[Challenge]:
    """Per (realm, proxy) the strongest supported challenge, in first-seen order.

    Several realms (a proxy and the carrier's registrar, say) are all answered at once, as
    RFC 3261 section 22.3 asks. Realms with nothing supported are left out."""
    best: dict[tuple[str, bool], Challenge] = {}
    for challenge in challenges:
        if not challenge.supported:
            continue
        key = (challenge.realm, challenge.proxy)
        known = best.get(key)
        if known is None or challenge.strength > known.strength:
            best[key] = challenge
    return list(best.values())


def new_cnonce() -> str:
    return os.urandom(12).hex()


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def response_value(
    challenge: Challenge,
    credentials: Credentials,
    method: str,
    uri: str,
    *,
    nc: int = 1,
    cnonce: str = "",
    body: bytes = b"",
) -> tuple[str, str | None]:
    """(response digest, qop used or None) for one request (RFC 7616 section 3.4.1)."""
    if not challenge.supported:
        raise DigestError(f"unsupported Digest algorithm or qop: {challenge.algorithm}")
    h = _ALGORITHMS[challenge.base_algorithm]
    # A1 always has the real user name; userhash only changes what the header shows.
    ha1 = h(f"{credentials.username}:{challenge.realm}:{credentials.password}".encode())
    if challenge.sess:
        ha1 = h(f"{ha1}:{challenge.nonce}:{cnonce}".encode())
    qop: str | None = None
    if challenge.qop:
        qop = "auth" if "auth" in challenge.qop else "auth-int"
    a2 = f"{method}:{uri}"
    if qop == "auth-int":
        a2 += ":" + h(body)
    ha2 = h(a2.encode())
    if qop is None:
        return h(f"{ha1}:{challenge.nonce}:{ha2}".encode()), None
    return h(f"{ha1}:{challenge.nonce}:{nc:08x}:{cnonce}:{qop}:{ha2}".encode()), qop


def authorization(
    challenge: Challenge,
    credentials: Credentials,
    method: str,
    uri: str,
    *,
    nc: int = 1,
    cnonce: str | None = None,
    body: bytes = b"",
) -> tuple[str, str]:
    """(header name, value): Authorization or Proxy-Authorization answering `challenge`."""
    cnonce = cnonce if cnonce is not None else new_cnonce()
    digest, qop = response_value(
        challenge, credentials, method, uri, nc=nc, cnonce=cnonce, body=body
    )
    h = _ALGORITHMS[challenge.base_algorithm]
    username = (
        h(f"{credentials.username}:{challenge.realm}".encode())
        if challenge.userhash
        else credentials.username
    )
    parts = [
        f"username={_quote(username)}",
        f"realm={_quote(challenge.realm)}",
        f"nonce={_quote(challenge.nonce)}",
        f"uri={_quote(uri)}",
        f"response={_quote(digest)}",
        f"algorithm={challenge.algorithm}",
    ]
    if challenge.opaque is not None:
        parts.append(f"opaque={_quote(challenge.opaque)}")
    if qop is not None:
        parts += [f"qop={qop}", f"nc={nc:08x}", f"cnonce={_quote(cnonce)}"]
    if challenge.userhash:
        parts.append("userhash=true")
    name = "Proxy-Authorization" if challenge.proxy else "Authorization"
    return name, "Digest " + ", ".join(parts)


@dataclass
class _Held:
    challenge: Challenge
    nc: int = 0


class DigestSession:
    """The challenges one dialog (or one registration) answers, reused on later requests.

    `absorb(response)`-style use: `learn()` the challenges of a 401/407, then `headers()`
    signs every following request of the dialog with an incremented nc. A challenge for a
    realm whose nonce we already answered, not marked stale, means the credentials were
    refused: `learn()` says so and the caller gives up instead of looping.
    """

    def __init__(self, credentials: Credentials) -> None:
        self.credentials = credentials
        self._held: dict[tuple[str, bool], _Held] = {}

    @property
    def active(self) -> bool:
        return bool(self._held)

    def learn(self, challenges: Iterable[Challenge], *, signed: bool) -> str | None:
        """Take the challenges of a 401/407; returns why they cannot be answered, or None
        when one retry signed with headers() may succeed.

        `signed`: the request that drew them already carried our credentials. Then only a
        `stale=true` challenge (our nonce merely expired) is worth a retry; the same nonce
        again, or a fresh one without stale, means the password was refused."""
        chosen = choose(challenges)
        if not chosen:
            return "no supported Digest challenge (algorithm or qop)"
        for challenge in chosen:
            key = (challenge.realm, challenge.proxy)
            known = self._held.get(key)
            if known is not None and known.challenge.nonce == challenge.nonce:
                return f"credentials rejected by realm {challenge.realm!r} (same nonce again)"
            if signed and known is not None and not challenge.stale:
                return f"credentials rejected by realm {challenge.realm!r}"
            self._held[key] = _Held(challenge)
        return None

    def headers(self, method: str, uri: str, body: bytes = b"") -> list[tuple[str, str]]:
        out: list[tuple[str, str]] = []
        for held in self._held.values():
            held.nc += 1
            out.append(
                authorization(held.challenge, self.credentials, method, uri, nc=held.nc, body=body)
            )
        return out
