"""Session ids (words, shape, blocklist) and the validation of client parameters."""

from __future__ import annotations

import re

import pytest

from session_service import validation
from session_service.exceptions import InvalidParameters, InvalidSessionId, UnsupportedLanguage
from session_service.session_ids import (
    ADJECTIVES,
    BLOCKED_PAIRS,
    NOUNS,
    generate_session_id,
    is_blocked,
)


def test_word_lists_have_over_a_hundred_distinct_lowercase_words() -> None:
    for words in (ADJECTIVES, NOUNS):
        assert len(set(words)) == len(words) >= 100
        assert all(re.fullmatch(r"[a-z]{2,20}", w) for w in words)


def test_generated_ids_have_the_protocol_shape_and_avoid_the_blocklist() -> None:
    for _ in range(2000):
        session_id = generate_session_id()
        assert validation.SESSION_ID_RE.match(session_id)
        adjective, noun, number = session_id.split("-")
        assert adjective in ADJECTIVES
        assert noun in NOUNS
        assert 100 <= int(number) <= 999
        assert not is_blocked(session_id)


def test_blocked_pairs_use_listed_words_and_are_blocked_with_any_number() -> None:
    for adjective, noun in BLOCKED_PAIRS:
        assert adjective in ADJECTIVES
        assert noun in NOUNS
        assert is_blocked(f"{adjective}-{noun}-123")
    assert is_blocked("brave-otter-666")
    assert not is_blocked("brave-otter-667")


@pytest.mark.parametrize(
    "value",
    [
        "",
        "brave-otter",
        "brave-otter-99",
        "Brave-otter-123",
        "brave-otter-1000",
        "brave_otter_123",
        "a-b-123",
    ],
)
def test_malformed_session_ids_are_refused(value: str) -> None:
    with pytest.raises(InvalidSessionId):
        validation.session_id(value)


def test_language_outside_the_supported_list_is_refused_with_the_list() -> None:
    assert validation.language("es", {"en", "es"}, "targetLanguage") == "es"
    with pytest.raises(UnsupportedLanguage) as raised:
        validation.language("EN", {"en", "es"}, "targetLanguage")
    assert raised.value.details["supported"] == ["en", "es"]


def test_missing_or_oversized_parameter_is_refused_naming_it() -> None:
    with pytest.raises(InvalidParameters, match="sessionId"):
        validation.required({}, "sessionId", "an id")
    with pytest.raises(InvalidParameters, match="too long"):
        validation.required({"sessionId": "x" * 1000}, "sessionId", "an id")
