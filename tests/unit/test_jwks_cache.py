"""The JWKS cache: fetched once, refetched on an unknown kid at most once per floor."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from session_service.auth.jwt_verifier import JwksCache, JwksUnavailable


def jwk(kid: str) -> dict:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()
    return {**RSAAlgorithm.to_jwk(key, as_dict=True), "kid": kid, "alg": "RS256", "use": "sig"}


class Source:
    def __init__(self, *keys: dict) -> None:
        self.document = {"keys": list(keys)}
        self.calls = 0

    def __call__(self, url: str) -> dict:
        self.calls += 1
        return self.document


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


K1, K2 = jwk("k1"), jwk("k2")


def test_known_kid_is_served_from_cache() -> None:
    source, clock = Source(K1), Clock()
    cache = JwksCache("u", fetch=source, monotonic=clock)
    for _ in range(10):
        assert cache.key("k1") is not None
    assert source.calls == 1


def test_unknown_kids_refetch_at_most_once_per_floor() -> None:
    source, clock = Source(K1), Clock()
    cache = JwksCache("u", fetch=source, monotonic=clock, min_refetch_seconds=60)
    cache.key("k1")
    for i in range(100):
        assert cache.key(f"bogus-{i}") is None
    assert source.calls == 1
    source.document = {"keys": [K1, K2]}
    clock.now += 60
    assert cache.key("k2") is not None
    assert source.calls == 2


def test_non_rsa_and_non_signing_keys_are_ignored() -> None:
    source = Source(
        {"kty": "oct", "kid": "sym", "k": "c2VjcmV0"},
        {**jwk("enc"), "use": "enc"},
        {**jwk("hs"), "alg": "HS256"},
        K1,
    )
    cache = JwksCache("u", fetch=source, monotonic=Clock())
    assert cache.key("k1") is not None
    for kid in ("sym", "enc", "hs"):
        assert cache.key(kid) is None


def test_document_without_keys_is_unavailable() -> None:
    cache = JwksCache("u", fetch=lambda url: {"nope": 1}, monotonic=Clock())
    with pytest.raises(JwksUnavailable):
        cache.key("k1")
