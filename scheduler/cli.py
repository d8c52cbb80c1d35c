"""Command-line wiring: parse options, read the clock and environment once, call, render."""

from __future__ import annotations

import click

from scheduler import __version__


@click.group()
@click.version_option(__version__, prog_name="scheduler")
def main() -> None:
    """Publish videos across many channels from schedules kept in this repository."""
