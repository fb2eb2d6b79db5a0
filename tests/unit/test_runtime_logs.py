from pathlib import Path

from microshop.runtime.logs import follow_log, log_tail
from microshop.runtime.state import RunPaths


def a_log(tmp_path: Path, text: str) -> RunPaths:
    paths = RunPaths(tmp_path)
    paths.log_file.parent.mkdir(parents=True)
    paths.log_file.write_text(text)
    return paths


def append(paths: RunPaths, text: str) -> None:
    with paths.log_file.open("a") as log:
        log.write(text)


def test_the_tail_is_the_last_lines_and_nothing_without_a_log(tmp_path: Path) -> None:
    assert log_tail(RunPaths(tmp_path / "none")) == []
    paths = a_log(tmp_path, "one\ntwo\nthree\n")
    assert log_tail(paths, 2) == ["two", "three"]


def test_following_yields_only_what_is_written_after_it_started(tmp_path: Path) -> None:
    paths = a_log(tmp_path, "before\n")
    lines = follow_log(paths, wait=lambda: append(paths, "after\n"))
    assert next(lines) == "after"


def test_a_line_still_being_written_is_yielded_once_whole(tmp_path: Path) -> None:
    paths = a_log(tmp_path, "")
    lines = follow_log(paths, wait=lambda: append(paths, "ial line\n"))
    append(paths, "first\npart")
    assert next(lines) == "first"
    assert next(lines) == "partial line"
