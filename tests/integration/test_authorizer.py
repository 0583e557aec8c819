"""The `$connect` authorizer: Cognito JWT verification, anonymous access, attempt limit."""

from __future__ import annotations

import base64
import itertools
import json
import time
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from .conftest import CLIENT_ID, ISSUER, App, Keys

CREATE = {"action": "createSession", "sourceLanguage": "en", "qualityTier": "standard"}


_addresses = itertools.count(1)


def authorize(app: App, token: str | None, **params: str) -> dict[str, Any]:
    """One attempt, each from its own address (so the per-IP attempt limit stays out)."""
    query = {**CREATE, **params}
    if token is not None:
        query["token"] = token
    n = next(_addresses)
    return app.authorize(query, ip=f"10.{n // 65536 % 256}.{n // 256 % 256}.{n % 256}")


def refused(app: App, token: str | None, **params: str) -> bool:
    with pytest.raises(Exception) as raised:  # noqa: PT011 - the contract is the bare Exception
        authorize(app, token, **params)
    return str(raised.value) == "Unauthorized"


def test_valid_id_token_is_allowed_with_the_user_id_in_context(app: App, keys: Keys) -> None:
    result = authorize(app, keys.token(sub="abc-123"))
    assert result["principalId"] == "abc-123"
    statement = result["policyDocument"]["Statement"][0]
    assert statement["Effect"] == "Allow"
    assert statement["Action"] == "execute-api:Invoke"
    assert result["context"] == {"userId": "abc-123", "rateLimited": False, "retryAfter": 0}
    assert all(isinstance(v, (str, int, bool)) for v in result["context"].values())


def test_valid_access_token_is_allowed(app: App, keys: Keys) -> None:
    token = keys.token(token_use="access", aud=None, client_id=CLIENT_ID, sub="u-9")
    assert authorize(app, token)["context"]["userId"] == "u-9"


def _alg_none(keys: Keys) -> str:
    header = base64.urlsafe_b64encode(json.dumps({"alg": "none", "kid": keys.kid}).encode())
    body = jwt.decode(keys.token(), options={"verify_signature": False})
    payload = base64.urlsafe_b64encode(json.dumps(body).encode())
    return f"{header.decode().rstrip('=')}.{payload.decode().rstrip('=')}."


def _hs256_with_public_key(keys: Keys) -> str:
    public_pem = keys.private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    header = base64.urlsafe_b64encode(
        json.dumps({"alg": "HS256", "kid": keys.kid, "typ": "JWT"}).encode()
    ).rstrip(b"=")
    body = jwt.decode(keys.token(), options={"verify_signature": False})
    payload = base64.urlsafe_b64encode(json.dumps(body).encode()).rstrip(b"=")
    import hashlib
    import hmac

    signing_input = header + b"." + payload
    signature = hmac.new(public_pem, signing_input, hashlib.sha256).digest()
    return (signing_input + b"." + base64.urlsafe_b64encode(signature).rstrip(b"=")).decode()


def _tampered(keys: Keys) -> str:
    header, payload, signature = keys.token(sub="user-1").split(".")
    body = json.loads(base64.urlsafe_b64decode(payload + "=="))
    body["sub"] = "admin"
    forged = base64.urlsafe_b64encode(json.dumps(body).encode()).decode().rstrip("=")
    return f"{header}.{forged}.{signature}"


def _other_key(keys: Keys) -> str:
    other = Keys(rsa.generate_private_key(public_exponent=65537, key_size=2048), kid=keys.kid)
    return other.token()


BAD_TOKENS = {
    "expired": lambda k: k.token(exp=int(time.time()) - 60, iat=int(time.time()) - 3700),
    "not yet valid": lambda k: k.token(nbf=int(time.time()) + 600),
    "wrong issuer": lambda k: k.token(iss="https://cognito-idp.us-east-1.amazonaws.com/other"),
    "wrong client (id token aud)": lambda k: k.token(aud="another-client"),
    "wrong client (access token client_id)": lambda k: k.token(
        token_use="access", aud=None, client_id="another-client"
    ),
    "wrong token_use": lambda k: k.token(token_use="refresh"),
    "no token_use": lambda k: k.token(token_use=None),
    "no exp": lambda k: k.token(exp=None),
    "alg none": _alg_none,
    "HS256 signed with the public key": _hs256_with_public_key,
    "tampered payload": _tampered,
    "signed by another key with the same kid": _other_key,
    "unknown kid": lambda k: k.token(headers={"kid": "not-in-the-pool"}),
    "garbage": lambda k: "this.is.not-a-jwt",
    "empty segments": lambda k: "..",
    "random bytes": lambda k: "\x00\xff" * 20,
}


@pytest.mark.parametrize("case", list(BAD_TOKENS))
def test_bad_token_on_create_session_is_always_refused_with_401(
    app: App, keys: Keys, case: str
) -> None:
    assert refused(app, BAD_TOKENS[case](keys))


@pytest.mark.parametrize("case", ["expired", "tampered payload", "alg none"])
def test_bad_token_on_speaker_refresh_is_refused_with_401(app: App, keys: Keys, case: str) -> None:
    params = {"action": "refreshConnection", "sessionId": "brave-otter-321", "role": "speaker"}
    with pytest.raises(Exception, match=r"^Unauthorized$"):
        app.authorize({**params, "token": BAD_TOKENS[case](keys)})


def test_missing_token_on_create_session_is_refused_with_401(app: App) -> None:
    assert refused(app, None)
    assert refused(app, "")


def test_listener_join_and_refresh_are_allowed_anonymously(app: App, keys: Keys) -> None:
    join = {"action": "joinSession", "sessionId": "brave-otter-321", "targetLanguage": "es"}
    assert app.authorize(join)["context"]["userId"] == ""
    refresh = {"action": "refreshConnection", "sessionId": "brave-otter-321", "role": "listener"}
    assert app.authorize(refresh)["context"]["userId"] == ""
    # a bad optional token does not lock a listener out; it connects anonymously
    expired = BAD_TOKENS["expired"](keys)
    assert app.authorize({**join, "token": expired})["context"]["userId"] == ""
    assert app.authorize({**join, "token": keys.token(sub="u-7")})["context"]["userId"] == "u-7"


def test_jwks_is_fetched_once_and_not_per_request(app: App, keys: Keys, jwks_server) -> None:
    for _ in range(5):
        authorize(app, keys.token())
    assert jwks_server.fetches == 1


def test_flood_of_unknown_kids_fetches_at_most_once_per_floor(
    app: App, keys: Keys, jwks_server
) -> None:
    authorize(app, keys.token())
    for i in range(20):
        assert refused(app, keys.token(headers={"kid": f"made-up-{i}"}))
    assert jwks_server.fetches == 1  # within the floor: no refetch at all
    app.clock.advance(61)
    for i in range(20):
        assert refused(app, keys.token(headers={"kid": f"made-up-again-{i}"}))
    assert jwks_server.fetches == 2  # one refetch per floor period, whatever the flood


def test_rotated_key_is_picked_up_on_unknown_kid_after_the_floor(
    app: App, keys: Keys, jwks_server
) -> None:
    authorize(app, keys.token())
    rotated = Keys(rsa.generate_private_key(public_exponent=65537, key_size=2048), kid="k2")
    jwks_server.document = {"keys": [keys.jwk(), rotated.jwk()]}
    app.clock.advance(61)
    result = authorize(app, rotated.token(sub="after-rotation"))
    assert result["context"]["userId"] == "after-rotation"
    assert jwks_server.fetches == 2
    authorize(app, keys.token())  # the old key stays valid, from the cache
    assert jwks_server.fetches == 2


def test_twenty_first_attempt_from_an_address_is_flagged_rate_limited(app: App) -> None:
    join = {"action": "joinSession", "sessionId": "brave-otter-321", "targetLanguage": "es"}
    for _ in range(20):
        assert app.authorize(join, ip="192.0.2.50")["context"]["rateLimited"] is False
    context = app.authorize(join, ip="192.0.2.50")["context"]
    assert context["rateLimited"] is True
    assert 1 <= context["retryAfter"] <= 60
    assert app.authorize(join, ip="192.0.2.51")["context"]["rateLimited"] is False


def test_issuer_is_the_pools_cognito_url(app: App) -> None:
    assert app.services["authorizer"].settings.issuer == ISSUER
