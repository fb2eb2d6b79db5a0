"""Names for a grown catalog: "<adjective> <material> <noun> <n>", and the search terms
that go with them.

Product n takes adjective n % 100 and noun (3n + n // 100) % 100, so within every run
of 100 consecutive products each adjective and each noun appears exactly once: a search
for one of them matches 1 % of the catalog, whatever its size (in whole hundreds). The
search terms are the shortest prefixes (4 letters or more) that occur in no other word
of the lists, so a term matches its own word only, by prefix or by substring alike.
"""

from collections.abc import Iterator
from functools import cache


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


ADJECTIVES = _words(
    """
    amber ancient arctic autumn balmy bold brave breezy bright brisk calm candid
    cheerful chunky classic clever cosy crisp curly dainty dapper dazzling deluxe dusky
    eager early elegant emerald faithful fancy festive fierce fluffy frosty gallant
    gentle giant glossy golden graceful grand happy hardy hearty humble icy jolly jumbo
    keen kind lavish lively lofty lucky mellow mighty misty modern mossy nifty nimble
    noble patient peachy perky placid plucky polar polished proud quaint quiet radiant
    rapid regal rosy royal rugged rustic sandy serene shiny silent sleek smoky snowy
    sparkly spicy sturdy sunny swift tender thrifty tidy tiny tranquil trusty vivid
    witty zesty
    """
)
MATERIALS = _words(
    """
    bamboo brass canvas ceramic copper cotton denim felt granite hemp leather linen
    marble nylon oak pewter porcelain rattan suede teak tin velvet walnut wicker wool
    """
)
NOUNS = _words(
    """
    anchor apron barrel armchair backpack basket beanie blanket bookend bottle bowl
    bracelet broom bucket cabinet candle carafe chair clock coaster compass colander
    cushion decanter desk doormat drawer easel fountain frame funnel goblet grater
    hammock hanger helmet hourglass jacket journal kettle keyring ladder ladle lamp
    lantern locket mailbox mallet mirror mitten mortar napkin necklace notebook ottoman
    paddle pantry pennant pillow pitcher planter plate pouch quilt radio rocker ruler
    saddle satchel scarf scooter shelf skillet slipper spatula spoon stool sundial
    suitcase sweater tablet teapot thimble thermos throw toaster tote tray trellis
    trivet trunk tumbler umbrella vase wallet whisk windchime wok yoyo zipper
    """
)
WORDS_PER_LIST = 100
MIN_TERM = 4
PRICE = "9.99"
STOCK = 1000


def product_name(number: int) -> str:
    adjective = ADJECTIVES[number % WORDS_PER_LIST]
    noun = NOUNS[(3 * number + number // WORDS_PER_LIST) % WORDS_PER_LIST]
    material = MATERIALS[(number // 7) % len(MATERIALS)]
    return f"{adjective} {material} {noun} {number}"


def products(first: int, count: int) -> Iterator[dict[str, object]]:
    """The import bodies of products first .. first + count - 1."""
    for number in range(first, first + count):
        yield {"name": product_name(number), "price": PRICE, "stock": STOCK}


def _unique_prefix(word: str, others: list[str]) -> str | None:
    for length in range(MIN_TERM, len(word) + 1):
        prefix = word[:length]
        if not any(prefix in other for other in others):
            return prefix
    return None


@cache
def search_terms() -> tuple[str, ...]:
    """One term per adjective and noun (materials are too few for 1 % each)."""
    every_word = [*ADJECTIVES, *MATERIALS, *NOUNS]
    terms = []
    for word in (*ADJECTIVES, *NOUNS):
        others = [other for other in every_word if other != word]
        if (term := _unique_prefix(word, others)) is not None:
            terms.append(term)
    return tuple(terms)
