from pathlib import Path

from microshop.contracts.events import EVENT_TYPES
from microshop.tools.eventdocs import render

DOC = Path(__file__).parents[2] / "docs" / "events.md"


def test_the_checked_in_event_docs_match_the_code() -> None:
    assert DOC.read_text() == render(), "run: microshop events docs > docs/events.md"


def test_every_event_type_is_documented_with_its_producer() -> None:
    text = render()
    for event_type, model in EVENT_TYPES.items():
        assert f"| `{event_type}` | {model.PRODUCER} |" in text
