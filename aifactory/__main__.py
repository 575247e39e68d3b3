"""`python -m aifactory` runs the command-line tool."""

from aifactory.cli import run

run()
