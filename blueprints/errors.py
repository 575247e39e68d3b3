"""Errors a user can fix: reported as a clear message and exit code 2, never a traceback."""


class InputError(Exception):
    """Bad input (a blueprint, a stack file, a plan file, component arguments)."""


class ComponentArgsError(InputError, ValueError):
    """A component was given arguments it cannot build from; the message names field and fix."""


class BlueprintFieldError(ComponentArgsError):
    """A component refused an argument that came from one field of the blueprint: the message
    is the component's, `path` the dotted blueprint field it came from (the CLI adds its file
    and line)."""

    def __init__(self, path: str, message: str):
        self.path = path
        self.message = message
        super().__init__(f"{path}: {message}")
