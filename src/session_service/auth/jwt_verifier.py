"""Verification of Cognito JWTs against the user pool's JWKS.

RS256 only; the signature is checked with the key named by the token's ``kid`` from the pool's
JWKS, which is fetched once per container and again only when a token names an unknown ``kid``
(at most once per :data:`MIN_REFETCH_SECONDS`, so a flood of made-up kids cannot make the
authorizer fetch per request). Then ``iss``, ``exp`` (and ``nbf``/``iat`` when present),
``token_use`` (``id`` or ``access``) and the app client (``aud`` for id tokens, ``client_id``
for access tokens).
"""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import jwt

from session_service.exceptions import Unauthorized

ALGORITHM = "RS256"
MIN_REFETCH_SECONDS = 60.0
FETCH_TIMEOUT_SECONDS = 3.0
MAX_TOKEN_LENGTH = 16_384


class JwksUnavailable(Exception):
    """The JWKS could not be fetched or parsed; a token cannot be verified now."""


def fetch_json(url: str) -> dict[str, Any]:
    if not url.startswith(("https://", "http://")):
        raise JwksUnavailable("the JWKS URL must be http(s)")
    request = urllib.request.Request(url, headers={"Accept": "application/json"})  # noqa: S310
    try:
        response = urllib.request.urlopen(request, timeout=FETCH_TIMEOUT_SECONDS)  # noqa: S310
        with response:
            data = json.loads(response.read(1_000_000))
    except (OSError, ValueError) as exc:
        raise JwksUnavailable(f"fetching the JWKS failed: {type(exc).__name__}") from exc
    if not isinstance(data, dict):
        raise JwksUnavailable("the JWKS is not a JSON object")
    return data


class JwksCache:
    """The pool's RSA signing keys by ``kid``, kept for the life of the container."""

    def __init__(
        self,
        url: str,
        fetch: Callable[[str], dict[str, Any]] = fetch_json,
        monotonic: Callable[[], float] = time.monotonic,
        min_refetch_seconds: float = MIN_REFETCH_SECONDS,
    ) -> None:
        self._url = url
        self._fetch = fetch
        self._monotonic = monotonic
        self._min_refetch = min_refetch_seconds
        self._keys: dict[str, Any] = {}
        self._fetched_at: float | None = None
        self._lock = threading.Lock()
        self.fetches = 0

    def key(self, kid: str) -> Any | None:
        """The public key for ``kid``; fetches the JWKS when ``kid`` is unknown (rate-floored)."""
        with self._lock:
            if kid in self._keys:
                return self._keys[kid]
            now = self._monotonic()
            if self._fetched_at is not None and now - self._fetched_at < self._min_refetch:
                return None
            self._fetched_at = now
            self.fetches += 1
            self._keys = self._parse(self._fetch(self._url))
            return self._keys.get(kid)

    @staticmethod
    def _parse(data: dict[str, Any]) -> dict[str, Any]:
        keys: dict[str, Any] = {}
        entries = data.get("keys")
        if not isinstance(entries, list):
            raise JwksUnavailable("the JWKS has no keys list")
        for entry in entries:
            if not isinstance(entry, dict) or entry.get("kty") != "RSA":
                continue
            if entry.get("use", "sig") != "sig" or entry.get("alg", ALGORITHM) != ALGORITHM:
                continue
            kid = entry.get("kid")
            if not isinstance(kid, str):
                continue
            try:
                keys[kid] = jwt.PyJWK(entry, algorithm=ALGORITHM).key
            except (jwt.PyJWTError, ValueError, TypeError, KeyError):
                continue
        return keys


@dataclass(frozen=True)
class Identity:
    user_id: str
    token_use: str


class TokenVerifier:
    def __init__(self, jwks: JwksCache, issuer: str, app_client_id: str) -> None:
        self._jwks = jwks
        self._issuer = issuer
        self._client_id = app_client_id

    def verify(self, token: str) -> Identity:
        """The identity in a valid token; :class:`Unauthorized` for anything else."""
        if not token or len(token) > MAX_TOKEN_LENGTH:
            raise Unauthorized("the token is missing or too long")
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise Unauthorized("the token is not a JWT") from None
        if header.get("alg") != ALGORITHM:
            raise Unauthorized("the token must be signed with RS256")
        kid = header.get("kid")
        if not isinstance(kid, str):
            raise Unauthorized("the token names no signing key")
        key = self._jwks.key(kid)
        if key is None:
            raise Unauthorized("the token's signing key is not the user pool's")
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=[ALGORITHM],
                issuer=self._issuer,
                options={"require": ["exp", "iss", "sub", "token_use"], "verify_aud": False},
            )
        except (jwt.PyJWTError, ValueError, TypeError):
            raise Unauthorized("the token is invalid or expired") from None
        return Identity(user_id=self._check_claims(claims), token_use=claims["token_use"])

    def _check_claims(self, claims: dict[str, Any]) -> str:
        token_use = claims.get("token_use")
        if token_use == "id":  # noqa: S105 - a claim value, not a secret
            audience = claims.get("aud")
            ok = audience == self._client_id or (
                isinstance(audience, list) and self._client_id in audience
            )
        elif token_use == "access":  # noqa: S105
            ok = claims.get("client_id") == self._client_id
        else:
            raise Unauthorized("token_use must be id or access")
        if not ok:
            raise Unauthorized("the token was issued to another app client")
        subject = claims.get("sub")
        if not isinstance(subject, str) or not subject:
            raise Unauthorized("the token has no subject")
        return subject
