"""The validation rules the three configuration loaders share, spelled once.

A value crosses three loaders on its way to a running handler: ``infra/config/{env}.json`` is read
by ``infra/config.py``, the environment names of ``infra/config/github.json`` by
``infra/github_oidc/config.py``, and what the stack sets as environment variables by
``session_service/config.py`` at cold start. When their rules disagree, a value passes synth and
stops the function at cold start (or the other way round), so each rule lives here and each loader
only says in its own words where the value came from.

Each rule is the one AWS and the names this repository builds need, no tighter and no looser; the
reason is beside it. The handlers import this module at cold start, so it uses the standard
library only (``re``, ``dataclasses``) and imports nothing of the service.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# The longest names built from an environment name ``{env}`` and the AWS limits they meet:
#   Lambda function ``session-connection-handler-{env}``   (27 + env) <= 64
#   IAM role        ``session-management-deploy-{env}``    (26 + env) <= 64
#   stack           ``SessionManagement-{env}``            (18 + env) <= 128
#   tables, alarms, topic, dashboard, ``{env}-verify`` GitHub environment: 255 or more.
# The function name leaves 37 characters; 32 keeps room for a function whose name is a little
# longer than today's longest, and is what the handlers already accepted. Lower-case letters,
# digits and hyphens are valid in all of those names (and in a CDK context value on a command
# line); starting with a letter keeps the stack name valid (CloudFormation requires it).
ENVIRONMENT_NAME_MAX_LENGTH = 32

# Cognito's own limits: UserPoolIdType is at most 55 characters, ClientIdType 1 to 128 of [\w+].
USER_POOL_ID_MAX_LENGTH = 55

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")

# ISO 639-1 codes of the languages that both Amazon Translate and Amazon Polly neural voices
# support (Polly: ar-AE, ca-ES, cs-CZ, cmn-CN, da-DK, de-DE, en-*, es-*, fi-FI, fr-*, hi-IN, it-IT,
# ja-JP, ko-KR, nl-NL, pl-PL, pt-*, sv-SE, tr-TR). Russian, Romanian, Icelandic and Welsh have
# standard Polly voices only, so they are not offered. The handlers refuse any other code too, so
# a language the stack cannot serve never reaches a client.
TRANSLATE_AND_POLLY_NEURAL_LANGUAGES: frozenset[str] = frozenset(
    {
        "ar", "ca", "cs", "da", "de", "en", "es", "fi", "fr", "hi", "it", "ja", "ko", "nl", "pl",
        "pt", "sv", "tr", "zh",
    }
)  # fmt: skip

# Region names: a two-letter area, words (partition words such as gov or iso/isob included), a
# digit: us-east-1, ap-southeast-2, us-gov-west-1, cn-north-1, us-isob-east-1.
_REGION = r"[a-z]{2}(?:-[a-z]+)+-\d"


@dataclass(frozen=True)
class Rule:
    """A rule for one kind of string: what it must match, and how an error says what is expected.

    ``expected`` is a noun phrase ("a 12-digit AWS account id as text"); each loader puts it into
    its own message shape (the file and field, or the variable), so every loader names the same
    expectation.
    """

    pattern: re.Pattern[str]
    expected: str

    def accepts(self, value: object) -> bool:
        """Whether ``value`` is a string the rule allows, as a whole."""
        return isinstance(value, str) and self.pattern.fullmatch(value) is not None


ENVIRONMENT_NAME = Rule(
    re.compile(rf"[a-z][a-z0-9-]{{0,{ENVIRONMENT_NAME_MAX_LENGTH - 1}}}"),
    "a lower-case name such as dev, staging or prod (a letter, then letters, digits or -; "
    f"at most {ENVIRONMENT_NAME_MAX_LENGTH} characters)",
)
ACCOUNT_ID = Rule(re.compile(r"\d{12}"), "a 12-digit AWS account id as text")
REGION = Rule(re.compile(_REGION), "an AWS region such as us-east-1")
USER_POOL_ID = Rule(
    re.compile(rf"(?=.{{1,{USER_POOL_ID_MAX_LENGTH}}}$){_REGION}_[0-9A-Za-z]+"),
    "a Cognito user pool id like us-east-1_AbC123",
)
# ASCII only: Python's \w would also take letters Cognito never issues.
APP_CLIENT_ID = Rule(
    re.compile(r"[A-Za-z0-9_+]{1,128}"), "a Cognito app client id (1-128 letters, digits, _ or +)"
)
TABLE_NAME = Rule(
    re.compile(r"[A-Za-z0-9_.-]{3,255}"), "a DynamoDB table name (3-255 of A-Z a-z 0-9 _ . -)"
)
LANGUAGE_CODE = Rule(
    re.compile("|".join(sorted(TRANSLATE_AND_POLLY_NEURAL_LANGUAGES))),
    "an ISO 639-1 code supported by Amazon Translate and Polly neural voices ("
    + ", ".join(sorted(TRANSLATE_AND_POLLY_NEURAL_LANGUAGES))
    + ")",
)


@dataclass(frozen=True)
class Bounds:
    """The whole numbers a limit may take; the JSON file and the handler agree on both ends."""

    low: int
    high: int

    def accepts(self, value: object) -> bool:
        """Whether ``value`` is an int (not a bool) within the bounds."""
        return is_integer(value) and self.low <= value <= self.high  # type: ignore[operator]

    @property
    def expected(self) -> str:
        return f"a whole number from {self.low} to {self.high}"


# Upper ends: what a single stack is sized and alarmed for. They were the handlers' own; the JSON
# loader checks them too, so a value that would stop every cold start stops synth instead.
LIMITS: dict[str, Bounds] = {
    "session_duration_minutes": Bounds(1, 24 * 60),
    "connection_ttl_minutes": Bounds(1, 7 * 24 * 60),
    "max_listeners_per_session": Bounds(1, 100_000),
    "session_create_limit_per_hour": Bounds(1, 100_000),
    "listener_join_limit_per_minute": Bounds(1, 100_000),
    "connection_attempt_limit_per_minute": Bounds(1, 100_000),
    "heartbeat_limit_per_minute": Bounds(1, 600),
    "max_active_sessions": Bounds(1, 1_000_000),
    # More than one heartbeat interval (30 s), or a speaker who heartbeats looks lost.
    "speaker_staleness_seconds": Bounds(31, 3600),
}


def is_integer(value: object) -> bool:
    """An int that is not a bool (JSON ``true`` parses to ``True``, which is an int in Python)."""
    return isinstance(value, int) and not isinstance(value, bool)


def is_positive_integer(value: object) -> bool:
    """A whole number above 0, e.g. a GitHub owner or repository id."""
    return is_integer(value) and value > 0  # type: ignore[operator]
