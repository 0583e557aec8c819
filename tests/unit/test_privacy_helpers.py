"""What keeps personal data out of logs: truncated addresses, hashed connection ids."""

from __future__ import annotations

from session_service.observability import hash_id, truncate_ip


def test_ip_addresses_are_truncated_to_their_network() -> None:
    assert truncate_ip("203.0.113.77") == "203.0.113.0/24"
    assert truncate_ip("2001:db8:1234:5678::1") == "2001:db8:1234::/48"
    assert truncate_ip("not an ip") == "invalid"


def test_connection_ids_are_hashed_stably_and_irreversibly() -> None:
    assert hash_id("abc=") == hash_id("abc=") != hash_id("abd=")
    assert "abc" not in hash_id("abc=")
    assert len(hash_id("abc=")) == 16
