"""Rendering validation problems: text, GitHub annotations + job summary, JSON."""

from __future__ import annotations

import json
from collections.abc import Sequence

from scheduler.problems import Problem

MAX_ANNOTATIONS = 10  # GitHub shows no more per severity and step


def as_text(problems: Sequence[Problem], *, checked: int) -> str:
    """One line per problem, then a count."""
    lines = [problem.render() for problem in problems]
    errors = sum(problem.severity == "error" for problem in problems)
    warnings = len(problems) - errors
    lines.append(f"{checked} files checked: {errors} error(s), {warnings} warning(s)")
    return "\n".join(lines)


def as_json(problems: Sequence[Problem]) -> str:
    """``{"problems": [{"file", "line", "column", "severity", "code", "message"}]}``."""
    rows = [
        {
            "file": p.file,
            "line": p.line,
            "column": p.column,
            "severity": p.severity,
            "code": p.code,
            "message": p.message,
        }
        for p in problems
    ]
    return json.dumps({"problems": rows}, indent=2, ensure_ascii=False)


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def as_github(problems: Sequence[Problem]) -> str:
    """Workflow commands: at most 10 annotations per severity (the rest are in the summary)."""
    lines = []
    shown = {"error": 0, "warning": 0}
    for problem in problems:
        if shown[problem.severity] >= MAX_ANNOTATIONS:
            continue
        shown[problem.severity] += 1
        props = f"file={_escape_property(problem.file)}"
        if problem.line:
            props += f",line={problem.line},col={problem.column}"
        props += f",title={_escape_property(problem.code)}"
        lines.append(f"::{problem.severity} {props}::{_escape_data(problem.message)}")
    hidden = len(problems) - sum(shown.values())
    if hidden:
        lines.append(f"{hidden} more problem(s) are listed in the job summary")
    return "\n".join(lines)


def as_summary(problems: Sequence[Problem]) -> str:
    """A markdown job summary listing every problem."""
    if not problems:
        return "### Schedule validation\n\nNo problems found.\n"
    rows = ["### Schedule validation", "", "| severity | where | problem |", "|---|---|---|"]
    for p in problems:
        place = f"{p.file}:{p.line}:{p.column}" if p.line else p.file
        message = p.message.replace("|", "\\|").replace("\n", " ")
        rows.append(f"| {p.severity} | `{place}` | {message} (`{p.code}`) |")
    return "\n".join(rows) + "\n"
