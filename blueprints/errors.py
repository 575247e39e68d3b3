"""Errors a user can fix: reported as a clear message and exit code 2, never a traceback."""


class InputError(Exception):
    """Bad input (a blueprint, a stack file, a plan file, component arguments)."""


class ComponentArgsError(InputError, ValueError):
    """A component was given arguments it cannot build from; the message names field and fix."""
