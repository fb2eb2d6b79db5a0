"""No module over MAX_LINES lines (`make lint`): a longer one holds more than one
concept, and is split by concept (orders' saga_store.py and saga_queries.py, say).

    python -m microshop.tools.module_size src
"""

import sys
from pathlib import Path

MAX_LINES = 350


def too_long(root: Path) -> list[tuple[Path, int]]:
    sizes = ((path, len(path.read_text().splitlines())) for path in sorted(root.rglob("*.py")))
    return [(path, lines) for path, lines in sizes if lines > MAX_LINES]


def main(roots: list[str]) -> int:
    found = [hit for root in roots for hit in too_long(Path(root))]
    for path, lines in found:
        print(f"{path}: {lines} lines, more than {MAX_LINES}: split it by concept")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or ["src"]))
