"""BLT files in and out, and ``flask elections count``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from involve.elections.blt import BLTElection, BLTError, parse_blt, read_blt, write_blt
from involve.elections.cli import elections_cli
from tests.elections.helpers import EXPECTED, GLASGOW, needs_data

SAMPLE = """\
# a small election
4 2
-4
3 1 2 0
2 2 3 0   # two ballots
1 3 0

1 4 1 0
0
"Ada Lovelace"
"Bob  Jones "
"Cy # Young"
"Di"
"Residents' committee"
"""

# Cy and Di are level at every stage, so the last seat is drawn by lot.
LOT = """\
4 2
3 1 2 0
1 3 0
1 4 0
0
"Ada"
"Bob"
"Cy"
"Di"
"Tied"
"""


def run(*args: str):
    """Invoke ``elections`` directly, as ``flask elections ...`` would."""
    return CliRunner().invoke(elections_cli, list(args))


@pytest.fixture
def sample(tmp_path: Path) -> Path:
    path = tmp_path / "sample.blt"
    path.write_text(SAMPLE, encoding="utf-8")
    return path


# --------------------------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------------------------


def test_parse_sample():
    election = parse_blt(SAMPLE)
    assert election.seats == 2
    assert election.title == "Residents' committee"
    # Names keep the file's own spelling, spaces and all; "#" in quotes is part of the name.
    assert election.candidates == ["Ada Lovelace", "Bob  Jones ", "Cy # Young", "Di"]
    assert election.withdrawn == [3]
    assert election.ballots == [(3, (0, 1)), (2, (1, 2)), (1, (2,)), (1, (3, 0))]
    assert election.total_ballots == 7


def test_names_may_share_a_line_and_title_is_optional():
    election = parse_blt('2 1\n1 1 0\n0\n"A" "B"\n')
    assert election.candidates == ["A", "B"] and election.title == ""


def test_blank_ballots_are_kept():
    election = parse_blt('2 1\n4 0\n1 2 0\n0\n"A"\n"B"\n"T"\n')
    assert election.ballots == [(4, ()), (1, (1,))]


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("", None, "empty"),
        ("three 2\n", 1, "whole numbers"),
        ("3\n", 1, "CANDIDATES SEATS"),
        ("3 0\n0\n", 1, "seats"),
        ('2 1\n-3\n0\n"A"\n"B"\n', 2, "does not exist"),
        ('2 1\n1 1 2\n0\n"A"\n"B"\n', 2, "must end with 0"),
        ('2 1\n1 1 3 0\n0\n"A"\n"B"\n', 2, "not a candidate"),
        ('2 1\n1 1 1 0\n0\n"A"\n"B"\n', 2, "appears twice"),
        ('2 1\n1 1=2 0\n0\n"A"\n"B"\n', 2, "equal rankings"),
        ('2 1\n1 1 0 2 0\n0\n"A"\n"B"\n', 2, "0 may only end"),
        ('2 1\n-1 1 0\n0\n"A"\n"B"\n', 2, "negative"),
        ('2 1\n1 1 0\n"A"\n"B"\n', 3, "followed by a line holding just 0"),
        ("2 1\n1 1 0\n", 2, "followed by a line holding just 0"),
        ('2 1\n1 1 0\n0\n"A"\n', 4, "names 1 of its 2"),
        ('2 1\n1 1 0\n0\n"A"\nB\n"T"\n', 5, "double quotes"),
        ('2 1\n1 1 0\n0\n"A"\n"B"\n"T"\n"extra"\n', 7, "after the title"),
        ('2 1\n1 1 0\n0\n"A"\n"   "\n', 5, "empty"),
    ],
)
def test_bad_blt_is_reported_with_its_line(text, line, message):
    with pytest.raises(BLTError, match=message) as caught:
        parse_blt(text, source="bad.blt")
    assert caught.value.line == line
    assert str(caught.value).startswith("bad.blt" + (f", line {line}: " if line else ": "))
    assert isinstance(caught.value, ValueError)


def test_read_blt_refuses_binary(tmp_path: Path):
    path = tmp_path / "x.blt"
    path.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(BLTError, match="UTF-8"):
        read_blt(path)


# --------------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------------


def test_write_then_read_round_trip():
    election = parse_blt(SAMPLE)
    again = parse_blt(election.to_blt(group=False))
    assert again == election


def test_write_groups_identical_ballots_most_common_first():
    text = write_blt(["A", "B"], [(1, (1,)), (1, (0, 1)), (1, (1,))], 1, title="T")
    assert text == '2 1\n2 2 0\n1 1 2 0\n0\n"A"\n"B"\n"T"\n'
    assert parse_blt(text) == BLTElection("T", 1, ["A", "B"], [(2, (1,)), (1, (0, 1))], [])


@pytest.mark.parametrize(
    ("candidates", "ballots", "message"),
    [
        (['Ann "Nan" Lee'], [], "double quote"),
        (["A"], [(0, (0,))], "at least 1"),
        (["A"], [(1, (1,))], "not a candidate"),
        (["A", "B"], [(1, (0, 0))], "twice"),
    ],
)
def test_write_refuses_what_blt_cannot_hold(candidates, ballots, message):
    with pytest.raises(ValueError, match=message):
        write_blt(candidates, ballots, 1)


# --------------------------------------------------------------------------------------------
# flask elections count
# --------------------------------------------------------------------------------------------


def test_count_prints_the_stages_in_words(sample: Path):
    result = run("count", str(sample))
    assert result.exit_code == 0, result.output
    out = result.output
    assert "Residents' committee" in out
    assert "Seats: 2" in out and "Quota: 3" in out
    assert "Withdrawn: Di" in out
    assert "Stage 1: First preferences counted" in out
    assert "Elected: Ada Lovelace, Bob  Jones " in out


def test_count_json(sample: Path, tmp_path: Path):
    other = tmp_path / "other.blt"
    other.write_text(LOT, encoding="utf-8")
    result = run("count", str(sample), str(other), "--json", "--seed", "7")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert [d["file"] for d in data] == [str(sample), str(other)]
    first = data[0]
    assert first["title"] == "Residents' committee"
    assert first["seats"] == 2 and first["quota"] == "3.00000"
    assert first["elected"] == ["Ada Lovelace", "Bob  Jones "]
    assert first["stages"][0]["action"] == "first"
    assert data[1]["lot_used"] is True and data[1]["seed"] == 7
    # The same seed draws the same lot.
    again = json.loads(run("count", str(other), "--json", "--seed", "7").output)
    assert again[0] == data[1]


def test_count_reports_the_seed_when_a_lot_is_drawn(tmp_path: Path):
    path = tmp_path / "lot.blt"
    path.write_text(LOT, encoding="utf-8")
    result = run("count", str(path))
    assert result.exit_code == 0, result.output
    assert "decided by lot" in result.output and "--seed " in result.output


@pytest.mark.parametrize(
    ("args", "elected", "quota"),
    [
        (["--method", "irv"], ["Ada Lovelace"], "4.00000"),
        (["--seats", "1"], ["Ada Lovelace"], "4.00000"),
        (["--method", "block"], ["Bob  Jones ", "Ada Lovelace"], None),
        (["--method", "approval", "--seats", "1"], ["Bob  Jones "], None),
    ],
)
def test_count_methods_and_seats(sample: Path, args, elected, quota):
    result = run("count", str(sample), "--json", "--seed", "1", *args)
    assert result.exit_code == 0, result.output
    (data,) = json.loads(result.output)
    assert data["elected"] == elected
    assert data["quota"] == quota


def test_count_irv_refuses_more_seats(sample: Path):
    result = run("count", str(sample), "--method", "irv", "--seats", "2")
    assert result.exit_code != 0
    assert "one seat" in result.output


def test_count_bad_file_is_a_clear_error(tmp_path: Path):
    path = tmp_path / "bad.blt"
    path.write_text('2 1\n1 1 5 0\n0\n"A"\n"B"\n', encoding="utf-8")
    result = run("count", str(path))
    assert result.exit_code == 1
    assert f"Error: {path}, line 2: preference 5 is not a candidate" in result.output
    assert "Traceback" not in result.output
    assert isinstance(result.exception, SystemExit)


def test_count_missing_file(tmp_path: Path):
    result = run("count", str(tmp_path / "nope.blt"))
    assert result.exit_code == 2
    assert "does not exist" in result.output


def test_count_needs_a_file():
    result = run("count")
    assert result.exit_code == 2


@needs_data
def test_count_every_reference_file_as_json():
    files = [str(GLASGOW / f"{name}.blt") for name in sorted(EXPECTED)]
    result = run("count", *files, "--json", "--seed", "0")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert len(data) == len(EXPECTED)
    for name, item in zip(sorted(EXPECTED), data, strict=True):
        expected = EXPECTED[name]
        assert item["title"] == expected["title"]
        assert item["seats"] == expected["seats"]
        assert item["quota"] == expected["quota"]
        assert sorted(item["elected"]) == sorted(expected["elected"])
        assert item["stages"]
