"""Human-readable session ids: ``{adjective}-{noun}-{100..999}``.

Uniqueness is not decided here: the data layer writes the session with a condition that the id
does not exist, and the logic draws a new id when that condition fails.
"""

from __future__ import annotations

import secrets


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


ADJECTIVES: tuple[str, ...] = _words("""
    able agile amber ample ancient autumn azure balmy bold brave breezy bright brisk calm candid
    careful cheerful civic classic clever coastal cosmic cozy crisp curious dapper daring dawn
    deft devoted eager earnest easy elegant epic even exact fabled fair faithful fancy fearless
    festive fine firm fluent fond frank free fresh friendly frosty gallant gentle gifted glad
    golden graceful grand green happy hardy hearty helpful honest hopeful humble jolly joyful
    keen kind lively loyal lucid lucky mellow merry mighty mindful modest musical neat nimble
    noble novel open patient peaceful placid plucky polite proud quick quiet radiant rapid ready
    regal robust rosy royal rustic serene sharp shiny silent silver simple sincere smart smooth
    snowy solar sound spry stable steady sterling sturdy sunny superb swift tidy tranquil
    trusty upbeat valiant vast vivid warm wise witty worthy young zesty
    """)

NOUNS: tuple[str, ...] = _words("""
    acorn anchor apple arbor archer aspen aurora badger banjo barley beacon beaver birch bison
    blossom boulder breeze brook buffalo cactus canyon cardinal castle cedar cello chamber
    cheetah clover comet compass condor coral cosmos cottage crane creek cricket crystal dolphin
    eagle ember falcon fern festival fiddle finch fjord forest fountain fox galaxy garden geyser
    glacier griffin harbor harp hawk heron horizon island jaguar journey kestrel lantern lark
    lighthouse lily lotus lynx magnet maple meadow melody meteor mountain nebula nightingale
    oasis ocean orchard orchid otter owl panda panther pebble pelican piano pine planet poet
    prairie puffin quartz rainbow raven reef river robin saffron sailor sequoia shepherd
    sparrow spruce summit sunrise swan tiger trail tulip valley violin voyager walrus willow
    wren zephyr
    """)

# Combinations that read badly together, and numbers with unwanted connotations.
BLOCKED_PAIRS: frozenset[tuple[str, str]] = frozenset(
    {
        ("young", "panther"),
        ("easy", "tiger"),
        ("free", "tiger"),
        ("frosty", "lily"),
        ("ancient", "poet"),
        ("modest", "cottage"),
        ("silent", "nightingale"),
    }
)
BLOCKED_NUMBERS: frozenset[int] = frozenset({666, 420, 911, 187, 404, 500, 503})


def is_blocked(session_id: str) -> bool:
    """True when the id reads badly (a blocked pair, or a blocked number)."""
    parts = session_id.split("-")
    if len(parts) != 3 or not parts[2].isdigit():
        return False
    return (parts[0], parts[1]) in BLOCKED_PAIRS or int(parts[2]) in BLOCKED_NUMBERS


def generate_session_id() -> str:
    """A random id from the word lists that is not on the blocklist."""
    while True:
        candidate = (
            f"{secrets.choice(ADJECTIVES)}-{secrets.choice(NOUNS)}-{100 + secrets.randbelow(900)}"
        )
        if not is_blocked(candidate):
            return candidate
