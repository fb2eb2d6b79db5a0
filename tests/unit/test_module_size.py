"""`make lint` refuses a module over 350 lines (issue 11: split what holds several
concepts)."""

from pathlib import Path

import pytest

from microshop.tools.module_size import MAX_LINES, main, too_long


def _module(path: Path, lines: int) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("x = 1\n" * lines)
    return path


def test_a_module_one_line_over_the_limit_is_named(tmp_path: Path) -> None:
    long = _module(tmp_path / "pkg" / "long.py", MAX_LINES + 1)
    _module(tmp_path / "pkg" / "fits.py", MAX_LINES)

    assert too_long(tmp_path) == [(long, MAX_LINES + 1)]


def test_lint_fails_and_says_which_module_to_split(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _module(tmp_path / "big.py", 400)

    assert main([str(tmp_path)]) == 1
    assert "big.py: 400 lines, more than 350: split it by concept" in capsys.readouterr().out
