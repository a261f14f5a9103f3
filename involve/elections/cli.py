"""``flask elections ...``: election commands for the command line.

``flask elections count FILE.blt`` recounts any election held as a BLT file - one exported from
Involve, or a published reference election - and shows every stage in plain words, or as JSON for
other programs.  It needs no database and no app context, so it also works on a laptop with only
the exported file.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import click
from flask.cli import AppGroup

from .blt import BLTError, read_blt
from .counting import METHODS, CountResult, Stage, count_election

__all__ = ["elections_cli"]

elections_cli = AppGroup(
    "elections",
    help="Ambassador elections: count ballots held in BLT files.",
)

_METHOD_NAMES = {
    "stv": "single transferable vote (Scottish STV rules)",
    "irv": "alternative vote (one seat)",
    "block": "block vote (choose up to N)",
    "approval": "approval vote (choose any number)",
}


def _count_file(path: Path, method: str, seats: int | None, seed: int | None) -> CountResult:
    """Read one BLT file and count it; problems come back as ClickException (no traceback)."""
    try:
        election = read_blt(path)
    except BLTError as exc:
        raise click.ClickException(str(exc)) from None
    except OSError as exc:
        raise click.ClickException(
            f"{path}: cannot read the file ({exc.strerror or exc})"
        ) from None

    ballots = election.ballots
    if method == "irv":
        count_seats = 1
    else:
        count_seats = seats if seats is not None else election.seats
    if method == "block":
        # A ranked ballot counted as a block vote gives a vote to each of its first N choices.
        ballots = [(count, ranking[:count_seats]) for count, ranking in ballots]
    try:
        result = count_election(
            method,
            election.candidates,
            ballots,
            count_seats,
            seed,
            title=election.title or None,
            withdrawn=election.withdrawn,
        )
    except ValueError as exc:
        raise click.ClickException(f"{path}: {exc}") from None
    return result


def _stage_lines(result: CountResult, stage: Stage, previous: Stage | None) -> list[str]:
    """One stage in words: what happened, then each candidate still in it with their votes."""
    lines = textwrap.wrap(
        f"Stage {stage.number}: {stage.reason}", width=100, subsequent_indent="  "
    )
    label = "No further preference"
    width = max(len(name) for name in (*result.candidates, label))
    for c, name in enumerate(result.candidates):
        # Candidates who left the count before this stage have nothing more to show.
        if previous is not None and previous.status[c] in ("excluded", "withdrawn"):
            continue
        if stage.status[c] == "withdrawn":
            continue
        change = stage.transfers[c]
        note = {"elected": "elected", "excluded": "excluded"}.get(stage.status[c], "")
        shown_change = f"({change:+})" if stage.number > 1 and change else ""
        lines.append(
            f"    {name:<{width}}  {stage.votes[c]:>14}  {shown_change:<16} {note}".rstrip()
        )
    if result.quota is not None and (stage.non_transferable_total or stage.fraction_lost_total):
        lines.append(
            f"    {label:<{width}}  {stage.non_transferable_total:>14}"
            + (f"  ({stage.non_transferable:+})" if stage.non_transferable else "")
        )
    return lines


def _human(path: Path, result: CountResult) -> str:
    """The whole count as text for a person to read."""
    title = result.title or path.stem
    lines = [title, "=" * len(title), f"File: {path}", f"Method: {_METHOD_NAMES[result.method]}"]
    facts = [f"Seats: {result.seats}", f"Valid ballots: {result.valid_ballots}"]
    if result.quota is not None:
        facts.append(f"Quota: {result.quota.normalize():f}")
    if result.invalid_ballots:
        facts.append(f"Ballots choosing nobody: {result.invalid_ballots}")
    lines.append("   ".join(facts))
    if result.withdrawn:
        lines.append("Withdrawn: " + ", ".join(result.candidates[c] for c in result.withdrawn))
    lines.append("")
    previous: Stage | None = None
    for stage in result.stages:
        lines.extend(_stage_lines(result, stage, previous))
        lines.append("")
        previous = stage
    lines.append("Elected: " + (", ".join(result.elected_names) or "nobody"))
    if result.lot_used:
        lines.append(
            f"A tie was decided by lot. To repeat the same draw, add --seed {result.seed}."
        )
    return "\n".join(lines)


@elections_cli.command("count", with_appcontext=False)
@click.argument(
    "files",
    nargs=-1,
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    metavar="FILE.blt [FILE.blt ...]",
)
@click.option(
    "--method",
    type=click.Choice(METHODS),
    default="stv",
    show_default=True,
    help="stv: Scottish STV; irv: alternative vote, one seat; block: each ballot's first N "
    "preferences count as votes; approval: every preference counts as a vote.",
)
@click.option(
    "--seats",
    type=click.IntRange(min=1),
    default=None,
    help="Seats to fill (default: the number in the file).",
)
@click.option(
    "--seed",
    type=int,
    default=None,
    help="Seed for drawing lots, to repeat an earlier count's draw exactly.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON.")
def count_command(
    files: tuple[Path, ...], method: str, seats: int | None, seed: int | None, as_json: bool
) -> None:
    """Count the ballots in one or more BLT files and show every stage."""
    if method == "irv" and seats not in (None, 1):
        raise click.BadParameter("the alternative vote fills one seat", param_hint="--seats")
    outputs = []
    for path in files:
        result = _count_file(path, method, seats, seed)
        if as_json:
            data = result.to_dict()
            data["file"] = str(path)
            outputs.append(data)
        else:
            outputs.append(_human(path, result))
    if as_json:
        click.echo(json.dumps(outputs, indent=2, ensure_ascii=False))
    else:
        click.echo("\n\n".join(outputs))


COMMANDS = [elections_cli]
