"""JWT issue/verify, credential parsing and permission bits: pure logic, no server."""

from __future__ import annotations

import base64
import json
import time
import uuid
from typing import Any

import jwt
import pytest
from aiohttp.test_utils import make_mocked_request
from api_gateway.accounts import Identity, hash_accesskey
from api_gateway.auth import TokenIssuer, _bearer, require
from api_gateway.cli import parse_permission
from api_gateway.permissions import Permission
from shared.errors import AppError, ErrorStatus

SECRET = "unit-secret-" + "0123456789abcdef" * 4
ACCOUNT: dict[str, Any] = {
    "id": str(uuid.uuid4()),
    "username": "admin",
    "customer_id": str(uuid.uuid4()),
    "permission": int(Permission.PROJECT_SUPER_ADMIN),
}


def _b64(part: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(part).encode()).rstrip(b"=").decode()


def _refused(issuer: TokenIssuer, token: str) -> AppError:
    with pytest.raises(AppError) as caught:
        issuer.verify(token)
    assert caught.value.status is ErrorStatus.UNAUTHENTICATED
    assert caught.value.http_status == 401
    return caught.value


def test_issue_then_verify() -> None:
    issuer = TokenIssuer(SECRET, 3600)
    token = issuer.issue(ACCOUNT)  # type: ignore[arg-type]
    assert jwt.get_unverified_header(token)["alg"] == "HS256"
    claims = issuer.verify(token)
    assert claims["sub"] == ACCOUNT["id"]
    assert claims["username"] == "admin"
    assert claims["permission"] == 1
    assert claims["exp"] - claims["iat"] == 3600


def test_default_expiry_is_seven_days() -> None:
    from api_gateway.settings import Settings

    assert Settings.model_fields["jwt_expiry_seconds"].default == 7 * 24 * 3600


def test_expired_token() -> None:
    issuer = TokenIssuer(SECRET, 3600)
    now = int(time.time())
    token = jwt.encode({"sub": ACCOUNT["id"], "iat": now - 20, "exp": now - 10}, SECRET, "HS256")
    assert _refused(issuer, token).reason == "TOKEN_EXPIRED"


def test_wrong_key() -> None:
    token = TokenIssuer("another-secret-0123456789abcdef0123456789", 3600).issue(ACCOUNT)  # type: ignore[arg-type]
    assert _refused(TokenIssuer(SECRET, 3600), token).reason == "INVALID_TOKEN"


def test_alg_none() -> None:
    now = int(time.time())
    claims = {"sub": ACCOUNT["id"], "iat": now, "exp": now + 600, "permission": 1}
    for header in ({"alg": "none", "typ": "JWT"}, {"alg": "None"}, {"alg": "NONE"}):
        token = f"{_b64(header)}.{_b64(claims)}."
        assert _refused(TokenIssuer(SECRET, 3600), token).reason == "INVALID_TOKEN"


def test_other_algorithms_are_refused_even_with_the_right_key() -> None:
    now = int(time.time())
    token = jwt.encode({"sub": ACCOUNT["id"], "exp": now + 600}, SECRET, "HS512")
    _refused(TokenIssuer(SECRET, 3600), token)


def test_tampered_payload() -> None:
    issuer = TokenIssuer(SECRET, 3600)
    header, _, signature = issuer.issue(ACCOUNT).split(".")  # type: ignore[arg-type]
    forged = {"sub": ACCOUNT["id"], "exp": int(time.time()) + 600, "permission": 0xFFFF}
    _refused(issuer, f"{header}.{_b64(forged)}.{signature}")


@pytest.mark.parametrize("claims", [{"sub": "x"}, {"exp": 4102444800}])
def test_required_claims(claims: dict[str, Any]) -> None:
    token = jwt.encode(claims, SECRET, "HS256")
    _refused(TokenIssuer(SECRET, 3600), token)


@pytest.mark.parametrize("garbage", ["", "abc", "a.b.c", "Bearer x", "eyJ.eyJ.sig"])
def test_garbage(garbage: str) -> None:
    _refused(TokenIssuer(SECRET, 3600), garbage)


@pytest.mark.parametrize(
    ("header", "token"),
    [
        ("Bearer abc", "abc"),
        ("bearer abc", "abc"),
        ("BEARER  abc ", "abc"),
        ("Basic abc", None),
        ("Bearer", None),
        ("Bearer ", None),
        ("", None),
    ],
)
def test_bearer_header(header: str, token: str | None) -> None:
    headers = {"Authorization": header} if header else {}
    assert _bearer(make_mocked_request("GET", "/", headers=headers)) == token


def _identity(permission: Permission) -> Identity:
    return Identity("a", "c", "u", permission, "token")


def test_permission_bits() -> None:
    assert int(Permission.PROJECT_SUPER_ADMIN) == 0x0001
    assert int(Permission.CUSTOMER_AGENT) == 0x0010
    assert int(Permission.CUSTOMER_ADMIN) == 0x0020
    assert int(Permission.CUSTOMER_MANAGER) == 0x0040
    admin = _identity(Permission.PROJECT_SUPER_ADMIN | Permission.CUSTOMER_ADMIN)
    require(admin, Permission.PROJECT_SUPER_ADMIN)
    for other in (Permission.CUSTOMER_ADMIN, Permission.CUSTOMER_MANAGER, Permission.NONE):
        with pytest.raises(AppError) as caught:
            require(_identity(other), Permission.PROJECT_SUPER_ADMIN)
        assert caught.value.http_status == 403


def test_cli_permission_names() -> None:
    assert parse_permission("ProjectSuperAdmin") == Permission.PROJECT_SUPER_ADMIN
    assert parse_permission("CustomerAdmin, CustomerAgent") == (
        Permission.CUSTOMER_ADMIN | Permission.CUSTOMER_AGENT
    )
    with pytest.raises(SystemExit):
        parse_permission("Root")


def test_accesskeys_are_stored_as_sha256() -> None:
    # echo -n vbk_example | sha256sum
    expected = "c0fb723f89f238f3c19936d2d60a18691876b2f876c3244cc6a73db14500b27a"
    assert hash_accesskey("vbk_example") == expected


def test_path_ids() -> None:
    from api_gateway.http import path_id

    raw = uuid.uuid4()
    request = make_mocked_request("GET", "/", match_info={"id": str(raw).upper()})
    assert path_id(request) == str(raw)
    for bad in ("x", "123", str(raw)[:-1]):
        with pytest.raises(AppError) as caught:
            path_id(make_mocked_request("GET", "/", match_info={"id": bad}))
        assert caught.value.http_status == 400
        assert caught.value.reason == "INVALID_ID"
