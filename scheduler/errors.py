"""The one error family of the scheduler.

Every failure a user can cause is a :class:`SchedulerError` whose message names the subject,
the place and the fix. ``cli.py`` turns it into ``Error: ...`` and its ``exit_code``.
"""

from __future__ import annotations


class SchedulerError(Exception):
    """A failure the user can act on; rendered as ``Error: <message>``."""

    exit_code = 1


class UsageError(SchedulerError):
    """The command line itself is wrong (exit 2)."""

    exit_code = 2


class InputError(SchedulerError):
    """A file under ``schedules/`` (or an event file) cannot be used."""


class GitError(SchedulerError):
    """A git command failed; the message shows the command, its code and its stderr."""


class StateError(SchedulerError):
    """The state branch cannot be used as it is (tampered, diverged, clock skew, ...)."""


class StateConflict(SchedulerError):
    """The state branch moved under us (a rejected push): fetch, recompute, retry."""


class DispatchConfigError(SchedulerError):
    """Dispatch cannot even start (a missing token, a bad API URL)."""
