"""What every command shares: failing with a message and an exit status."""

from __future__ import annotations

import sys

import click


def fail(message: str, code: int = 2) -> None:
    """Print `message` on stderr and stop: status 2 for bad input (the default), 1 for problems
    found in files the command was asked to check."""
    click.echo(message, err=True)
    sys.exit(code)
