"""``plan``: what a change to the schedule files does, publication by publication (pure)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from scheduler.base import compare_with_base
from scheduler.checks import canonical_channels
from scheduler.planning import Publication
from scheduler.problems import Problem
from scheduler.world import World

KINDS = ("added", "removed", "moved", "renamed", "changed", "cancelled", "restored", "no effect")


@dataclass(frozen=True)
class Row:
    """One line of the plan."""

    kind: str
    id: str
    channel: str
    video: str
    old_due: datetime | None
    new_due: datetime | None
    note: str = ""
    estimated: bool = False


@dataclass(frozen=True)
class PlanDiff:
    """Every change, and the problems the change introduces."""

    rows: tuple[Row, ...]
    problems: tuple[Problem, ...]
    unchanged: int


def diff(head: World, base: World) -> PlanDiff:
    """Compare the publications planned from ``base``'s files and ``head``'s (query)."""
    old = {pub.id: pub for pub in base.publications if pub.file is not None}
    new = {pub.id: pub for pub in head.publications if pub.file is not None}
    rows: list[Row] = []
    unchanged = 0
    added = [new[i] for i in new if i not in old]
    removed = [old[i] for i in old if i not in new]
    renamed = _renames(removed, added, canonical_channels(head.schedules.channels))
    for before, after in renamed:
        rows.append(
            Row(
                "renamed",
                after.id,
                after.channel,
                after.video,
                before.due,
                after.due,
                f"was {before.id}"
                + ("; its ledger history stays with the old id" if before.record else ""),
            )
        )
    paired = {pub.id for pair in renamed for pub in pair}
    rows += [_row("added", pub, None, pub.due) for pub in added if pub.id not in paired]
    rows += [_removed(pub) for pub in removed if pub.id not in paired]
    for pub_id in sorted(set(old) & set(new)):
        row = _compare(old[pub_id], new[pub_id])
        if row is None:
            unchanged += 1
        else:
            rows.append(row)
    problems = tuple(p for p in compare_with_base(head, base) if p.severity == "error")
    rows.sort(key=_order)
    return PlanDiff(tuple(rows), problems, unchanged)


def _order(row: Row) -> tuple[int, str, str]:
    when = row.new_due or row.old_due
    return (KINDS.index(row.kind), when.isoformat() if when else "", row.id)


def _row(
    kind: str, pub: Publication, old_due: datetime | None, new_due: datetime | None, note: str = ""
) -> Row:
    return Row(kind, pub.id, pub.channel, pub.video, old_due, new_due, note, pub.estimated)


def _removed(pub: Publication) -> Row:
    """A publication the change removes; one already claimed stays in the ledger: no effect."""
    if pub.claimed:
        note = "already claimed: removing it from the files does not undo it"
        return _row("no effect", pub, pub.due, None, note)
    return _row("removed", pub, pub.due, None)


def _intent(pub: Publication) -> tuple[datetime, str]:
    return (pub.intent_due or pub.due, pub.intent_video or pub.video)


def _compare(before: Publication, after: Publication) -> Row | None:
    if after.claimed:
        if (
            _intent(before) != _intent(after)
            or before.params != after.params
            or before.cancelled != after.cancelled
        ):
            return _row(
                "no effect",
                after,
                before.intent_due or before.due,
                after.intent_due or after.due,
                "already claimed: the ledger keeps its due, video and payload",
            )
        return None
    if before.cancelled != after.cancelled:
        return _row("cancelled" if after.cancelled else "restored", after, before.due, after.due)
    changed = [
        f"{what} changed"
        for what, differs in (
            ("video", before.video != after.video),
            ("params", dict(before.params) != dict(after.params)),
        )
        if differs
    ]
    if before.due != after.due:
        note = ["queue slot, estimated"] if after.estimated else []
        return _row("moved", after, before.due, after.due, "; ".join(note + changed))
    if changed:
        return _row("changed", after, before.due, after.due, "; ".join(changed))
    return None


def _renames(
    removed: list[Publication], added: list[Publication], canonical: Mapping[str, str]
) -> list[tuple[Publication, Publication]]:
    """Pairs (old, new) with the same channel and video: a wave renamed, or moved to a new id,
    or a channel renamed (its old id in ``formerly``: ``canonical`` maps it to the new one)."""
    by_key = {(pub.channel, pub.video): pub for pub in added}
    pairs = []
    for pub in removed:
        match = by_key.pop((canonical.get(pub.channel, pub.channel), pub.video), None)
        if match is not None:
            pairs.append((pub, match))
    return pairs
