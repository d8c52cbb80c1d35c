"""``--base``: judge only what a change introduces (pure)."""

from __future__ import annotations

from dataclasses import replace

from scheduler import times
from scheduler.checks import canonical_channels, check
from scheduler.problems import Problem, error
from scheduler.world import World


def compare_with_base(head: World, base: World) -> list[Problem]:
    """Head's problems; those the base already had are kept as warnings marked so.

    A problem between two publications is reported at the one the change adds or moves.
    Adds "identity lost": an id with ledger events that the base planned and the head no
    longer does, and that no ``formerly`` or ``id:`` carries over.
    """
    before = {problem.key() for problem in base.problems()}
    moved = changed_ids(head, base)
    found = [*head.load_problems, *check(head.schedules, head.plan, now=head.now, report_at=moved)]
    result = []
    for problem in found:
        if problem.key() in before and problem.severity == "error":
            problem = replace(
                problem,
                severity="warning",
                message=problem.message + " (already so before this change)",
            )
        result.append(problem)
    result += identity_lost(head, base)
    return sorted(result, key=Problem.sort_key)


def changed_ids(head: World, base: World) -> frozenset[str]:
    """Ids of the head's publications that the change adds or moves (new due, channel or video)."""
    before = {pub.id: (pub.due, pub.channel, pub.video) for pub in base.publications}
    return frozenset(
        pub.id
        for pub in head.publications
        if pub.file is not None and before.get(pub.id) != (pub.due, pub.channel, pub.video)
    )


def identity_lost(head: World, base: World) -> list[Problem]:
    """Ids with history that the change stops planning (a rename without id: or formerly:)."""
    head_ids = {pub.id for pub in head.publications if pub.file is not None}
    canonical = canonical_channels(head.schedules.channels)
    problems = []
    for pub in base.publications:
        if pub.file is None or pub.record is None or pub.id in head_ids:
            continue
        renamed_channel = canonical.get(pub.channel)
        if renamed_channel and renamed_channel != pub.channel:
            continue
        message = (
            f"'{pub.id}' has ledger history ({pub.record.state}, due {times.format_utc(pub.due)}) and this change "
            "no longer plans it: keep the wave's id with id: (or the channel's old id in formerly:), "
            "or its history stays apart from the new name"
        )
        problems.append(
            error(pub.file, (1, 1), "identity-lost", message, f"identity-lost|{pub.id}")
        )
    return problems
