"""Errors of components, traced back to the blueprint field the refused argument came from.

A component validates its arguments and says what is wrong in its own terms (`EksCluster
aws-prod-eks: public_access_cidrs contains 0.0.0.0/0 ...`). compose builds each block inside
`blame(path, model)`: an error raised there is re-raised as a `BlueprintFieldError` at the
blueprint field it names (the first field of `model`, or of `aliases`, the message mentions),
else at `path` itself. The innermost `blame` wins; the CLI adds the file and line.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from pydantic import BaseModel

from blueprints.errors import BlueprintFieldError, ComponentArgsError

POOL_ALIASES = {"reservation_id": "reservation", "initial_nodes": "desired_nodes",
                "node_locations": "zones"}
"""Pool component arguments named apart from the blueprint's pool fields."""


def field_path(path: str, message: str, model: BaseModel | None = None,
               aliases: Mapping[str, str] | None = None) -> str:
    """The blueprint field a component's message is about: the earliest mention in it of a
    field of `model` (or an argument named in `aliases`), below `path`; else `path`."""
    names = {n: n for n in (type(model).model_fields if model is not None else {})}
    names.update(aliases or {})
    found = [(m.start(), field) for arg, field in names.items()
             for m in [re.search(rf"(?<![\w.]){re.escape(arg)}(?![\w])", message)] if m]
    return f"{path}.{min(found)[1]}" if found else path


@contextmanager
def blame(path: str, model: BaseModel | None = None,
          aliases: Mapping[str, str] | None = None) -> Iterator[None]:
    """Re-raise a component's argument error at the blueprint field it came from."""
    try:
        yield
    except BlueprintFieldError:
        raise
    except ComponentArgsError as e:
        raise BlueprintFieldError(field_path(path, str(e), model, aliases), str(e)) from None
