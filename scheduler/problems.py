"""Problems: what validation, loading and planning report, each at a file:line:column."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True, slots=True)
class Problem:
    """One finding. ``line`` and ``column`` are 1-based; 0 when the file as a whole is meant."""

    file: str
    line: int
    column: int
    severity: Severity
    code: str
    message: str
    subject: str = ""  # what the problem is about, stable across edits (for --base)

    def key(self) -> str:
        """Identity of the problem across two versions of the files (positions ignored)."""
        return self.subject or f"{self.file}|{self.code}|{self.message}"

    def render(self) -> str:
        """``file:line:col: severity: message [code]``, the text form every view shares."""
        place = self.file
        if self.line:
            place += f":{self.line}:{self.column}"
        return f"{place}: {self.severity}: {self.message} [{self.code}]"

    def sort_key(self) -> tuple[str, int, int, str, str]:
        """Files, then positions: the order problems are shown in."""
        return (self.file, self.line, self.column, self.code, self.message)


def error(file: str, pos: tuple[int, int], code: str, message: str, subject: str = "") -> Problem:
    """An error at ``pos`` (line, column)."""
    return Problem(file, pos[0], pos[1], "error", code, message, subject)


def warning(file: str, pos: tuple[int, int], code: str, message: str, subject: str = "") -> Problem:
    """A warning at ``pos`` (line, column)."""
    return Problem(file, pos[0], pos[1], "warning", code, message, subject)


def did_you_mean(name: str, known: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` for the closest of ``known`` (in its order), or ``""``."""
    close = difflib.get_close_matches(name, list(known), 1)
    return f" (did you mean '{close[0]}'?)" if close else ""
