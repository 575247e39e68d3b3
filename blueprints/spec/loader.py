"""Load a blueprint file: YAML with line numbers -> validated `Blueprint`, or every error at once.

Each error reads `file:line: path.to.field: message`, so an editor or CI annotation can jump to
it. Nothing here raises anything but `BlueprintError`.
"""

from __future__ import annotations

import difflib
import types
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from blueprints.errors import InputError
from blueprints.spec.base import PATH_PARTS
from blueprints.spec.inventory import MAC
from blueprints.spec.models import NAME_PATTERN, Blueprint
from blueprints.spec.policy import RULES_CONTEXT, KnownRules

PATTERN_FORMS = {
    NAME_PATTERN: "2-40 lower-case letters, digits and '-', starting with a letter",
    MAC: "a MAC address in lower case, such as 3c:ec:ef:00:00:01",
}

Loc = tuple[str | int, ...]
Lines = dict[Loc, tuple[str, int]]
"""Where each value of a blueprint came from: path -> (file, line)."""


@dataclass(frozen=True)
class Problem:
    """One error in a blueprint file."""

    file: str
    line: int
    path: str
    message: str

    def __str__(self) -> str:
        if self.line == 0:  # the file itself (missing, unreadable): there is no line
            return f"{self.file}: {self.message}"
        return f"{self.file}:{self.line}: {self.path}: {self.message}"


class BlueprintError(InputError):
    """A blueprint that cannot be loaded; `problems` lists every error found."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


# ---------------------------------------------------------------------------------------------
# YAML with line numbers


class _LineLoader(yaml.SafeLoader):
    """SafeLoader that keeps the composed node tree so values can be traced to their lines."""


YAML_TAG = "tag:yaml.org,2002:"
PLAIN_TAGS: dict[type[yaml.Node], str] = {yaml.MappingNode: YAML_TAG + "map",
                                          yaml.SequenceNode: YAML_TAG + "seq"}


def _tag_text(tag: str) -> str:
    return "!!" + tag.removeprefix(YAML_TAG) if tag.startswith(YAML_TAG) else tag


def _construct(node: yaml.Node, loc: Loc, lines: Lines, file: str,
               problems: list[Problem]) -> Any:
    lines[loc] = (file, node.start_mark.line + 1)
    plain = PLAIN_TAGS.get(type(node))
    if plain is not None and node.tag != plain:
        problems.append(Problem(file, node.start_mark.line + 1, _dotted(loc),
                                f"YAML tag {_tag_text(node.tag)} is not supported: a blueprint "
                                "holds plain mappings, lists and values; remove the tag"))
        return None
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key_line = key_node.start_mark.line + 1
            if not isinstance(key_node, yaml.ScalarNode):
                shape = "list" if isinstance(key_node, yaml.SequenceNode) else "mapping"
                problems.append(Problem(file, key_line, _dotted(loc),
                                        f"a key must be a plain value such as a name, not a "
                                        f"{shape}: write the key as text"))
                continue
            key = _scalar(key_node, loc, file, problems)
            if key is _BAD:
                continue
            if key in out:
                problems.append(Problem(file, key_line, _dotted(loc + (_key(key),)),
                                        f"key {key!r} appears twice: keep one"))
            child = loc + (_key(key),)
            out[key] = _construct(value_node, child, lines, file, problems)
            lines[child] = (file, key_line)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_construct(item, loc + (i,), lines, file, problems)
                for i, item in enumerate(node.value)]
    value = _scalar(node, loc, file, problems)
    return None if value is _BAD else value


_BAD = object()
"""A scalar that could not be read (its problem is recorded)."""


class MappingKey(str):
    """A mapping key in a location, as text: tells `_dotted` it is no list index even when the
    blueprint's key is a number (`1:`) or a boolean (`yes:`)."""


def _key(key: Any) -> str | int:
    return key if isinstance(key, str) else MappingKey(key)


def _scalar(node: yaml.Node, loc: Loc, file: str, problems: list[Problem]) -> Any:
    loader = _LineLoader("")
    try:
        return loader.construct_object(node, deep=True)
    except Exception as e:  # any constructor failure is the blueprint's error, not ours
        line = node.start_mark.line + 1
        tag = _tag_text(node.tag)
        if node.tag not in loader.yaml_constructors:
            message = (f"unknown YAML tag {tag}: a blueprint holds plain values; remove the tag"
                       " (tags such as !Ref or !!python/object are not evaluated)")
        else:
            reason = getattr(e, "problem", None) or str(e)
            message = (f"{node.value!r} cannot be read as {tag} ({reason}): quote it to keep "
                       "it as text, or correct the value")
        problems.append(Problem(file, line, _dotted(loc), message))
        return _BAD


def parse_yaml(text: str, file: str) -> tuple[Any, Lines]:
    """Parse YAML text; return the data and a map from path to line number (1-based)."""
    try:
        node = yaml.compose(text, Loader=_LineLoader)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line = mark.line + 1 if mark else 1
        what = e.problem or str(e)
        raise BlueprintError([Problem(file, line, "(file)",
                                      f"not valid YAML: {what}; check indentation and quoting"
                                      )]) from None
    except yaml.YAMLError as e:
        raise BlueprintError([Problem(file, 1, "(file)", f"not valid YAML: {e}")]) from None
    if node is None:
        raise BlueprintError([Problem(file, 1, "(file)", "the file is empty: a blueprint is a "
                                      "mapping with name, tags and environments")])
    lines: Lines = {}
    problems: list[Problem] = []
    data = _construct(node, (), lines, file, problems)
    if problems:
        raise BlueprintError(problems)
    return data, lines


# ---------------------------------------------------------------------------------------------
# Validation errors -> problems


def _dotted(loc: Loc) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int) and not isinstance(part, bool):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "(root)"


def _data_loc(loc: Loc, data: Any) -> Loc:
    """The location in the blueprint's data: without the discriminator tags pydantic puts in
    the location of union members, mapping keys marked as such (never taken for indexes)."""
    out: list[str | int] = []
    node = data
    for part in loc:
        if isinstance(node, dict) and part not in node and node.get("kind") == part:
            continue
        if isinstance(node, dict):
            # pydantic reports a `yes:` key as 1: take the key as the blueprint has it
            key = next((k for k in node if k == part and type(k) is type(part)),
                       next((k for k in node if k == part), part))
            out.append(_key(key) if key in node else key)
            node = node.get(key)
            continue
        out.append(part)
        if isinstance(node, list) and isinstance(part, int) and part < len(node):
            node = node[part]
        else:
            node = None
    return tuple(out)


def _line_of(loc: Loc, lines: Lines, file: str) -> tuple[str, int]:
    for n in range(len(loc), -1, -1):
        if loc[:n] in lines:
            return lines[loc[:n]]
    return (file, 1)


def _unwrap(tp: Any) -> list[Any]:
    """The concrete types an annotation may hold (Optional, Annotated and unions unpacked)."""
    origin = typing.get_origin(tp)
    if origin is typing.Annotated:
        return _unwrap(typing.get_args(tp)[0])
    if origin in (typing.Union, types.UnionType):
        return [t for a in typing.get_args(tp) for t in _unwrap(a)]
    return [tp]


def _fields_near(loc: Loc) -> list[str]:
    """Field names valid beside the last element of `loc` (for did-you-mean hints)."""
    parent = loc[:-1]
    model = _resolve_model(parent)
    return list(model.model_fields) if model else []


def _resolve_model(loc: Loc) -> type[BaseModel] | None:
    """Walk the spec types along a pydantic location (which includes union tags)."""
    current: list[Any] = [Blueprint]
    for part in loc:
        nxt: list[Any] = []
        for tp in current:
            if isinstance(tp, type) and issubclass(tp, BaseModel):
                field = tp.model_fields.get(str(part)) if isinstance(part, str) else None
                if field is not None:
                    nxt.extend(_unwrap(field.annotation))
                elif "kind" in tp.model_fields:
                    kind = tp.model_fields["kind"].annotation
                    if part in typing.get_args(kind):
                        nxt.append(tp)  # the tag selects this union member
            else:
                origin, args = typing.get_origin(tp), typing.get_args(tp)
                if origin is dict:
                    nxt.extend(_unwrap(args[1]))
                elif origin is list:
                    nxt.extend(_unwrap(args[0]))
        if any(isinstance(t, type) and issubclass(t, BaseModel) and "kind" in t.model_fields
               and part in typing.get_args(t.model_fields["kind"].annotation) for t in current):
            nxt = [t for t in current if isinstance(t, type) and issubclass(t, BaseModel)
                   and "kind" in t.model_fields
                   and part in typing.get_args(t.model_fields["kind"].annotation)]
        current = nxt
    models = [t for t in current if isinstance(t, type) and issubclass(t, BaseModel)]
    return models[0] if len(models) == 1 else None


def _field_description(loc: Loc) -> str | None:
    model = _resolve_model(loc[:-1])
    if model is None or not isinstance(loc[-1], str):
        return None
    field = model.model_fields.get(loc[-1])
    return field.description.rstrip(".") if field and field.description else None


def _describe(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "nothing (null)"
    return repr(value)


def _suggestion(loc: Loc) -> str | None:
    """The field an unknown key at `loc` is probably a misspelling of."""
    close = difflib.get_close_matches(str(loc[-1]), _fields_near(loc), n=1, cutoff=0.6)
    return close[0] if close else None


def _message(err: dict[str, Any], loc: Loc) -> list[tuple[Loc, str]]:
    kind, msg, value = err["type"], err["msg"], err.get("input")
    if (loc and loc[-1] == "[key]") or kind == "invalid_key":  # e.g. `1:` or `yes:`
        return [(loc[:-1] if loc[-1] == "[key]" else loc,
                 f"key {value!r} is not text: YAML reads unquoted digits as numbers and "
                 "yes/no/on/off/true/false as booleans; quote the key")]
    if kind == "extra_forbidden":
        key = str(loc[-1])
        close = _suggestion(loc)
        hint = f": did you mean {close!r}?" if close else ""
        known = _fields_near(loc)
        listing = f" (allowed: {', '.join(known)})" if known and not close else ""
        return [(loc, f"unknown key {key!r}{hint}{listing}")]
    if kind == "missing":
        return [(loc, f"required key {str(loc[-1])!r} is missing: add it")]
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return [(loc, f"expected a mapping (key: value), got {_describe(value)}")]
    if kind == "list_type":
        return [(loc, f"expected a list, got {_describe(value)}")]
    if kind == "value_error":
        text = msg.removeprefix("Value error, ")
        if text.startswith("@"):
            out = []
            for line in text.split("\n"):
                rel, _, message = line[1:].partition("|")
                parts: list[str | int]
                if rel.startswith(PATH_PARTS):  # parts kept whole (they may hold dots)
                    parts = [int(p[1:]) if p.startswith("#") else p
                             for p in rel.split(PATH_PARTS)[1:]]
                else:
                    parts = [int(p) if p.isdigit() else p for p in rel.split(".")] if rel \
                        else []
                out.append((loc + tuple(parts), message))
            return out
        return [(loc, text)]
    if kind == "string_pattern_mismatch":
        field = PATTERN_FORMS.get(err["ctx"]["pattern"]) or _field_description(loc)
        expected = f": expected {field}" if field else f" (pattern {err['ctx']['pattern']})"
        return [(loc, f"{value!r} is not valid{expected}")]
    if kind == "union_tag_invalid":
        ctx = err.get("ctx", {})
        return [(loc + ("kind",), f"{ctx.get('tag')!r} is not a kind of environment: use one "
                 f"of {ctx.get('expected_tags')}")]
    if kind == "union_tag_not_found":
        return [(loc, "`kind` is missing: set kind to aws, gcp or onprem")]
    if isinstance(value, (dict, list)) or value is None:
        return [(loc, f"{msg}, got {_describe(value)}")]
    return [(loc, f"{msg}, got {value!r}")]


def validate(data: Any, lines: Lines, file: str, *, rules: KnownRules | None = None) -> Blueprint:
    """Validate parsed data into a Blueprint, collecting every error; with `rules`, each
    waiver must name one of them."""
    if not isinstance(data, dict):
        raise BlueprintError([Problem(file, 1, "(root)", f"expected a mapping with name, tags "
                                      f"and environments, got {_describe(data)}")])
    try:
        return Blueprint.model_validate(data, context={RULES_CONTEXT: rules})
    except ValidationError as e:
        problems: list[Problem] = []
        errors = e.errors()
        # A misspelt required key is reported once, as the unknown key with its hint.
        hinted = {raw[:-1] + (close,) for raw in (tuple(err["loc"]) for err in errors
                                                   if err["type"] == "extra_forbidden")
                  if (close := _suggestion(raw)) is not None}
        for err in errors:
            raw_loc = tuple(err["loc"])
            if err["type"] == "missing" and raw_loc in hinted:
                continue
            for pyd_loc, message in _message(dict(err), raw_loc):
                loc = _data_loc(pyd_loc, data)
                where, line = _line_of(loc, lines, file)
                problems.append(Problem(where, line, _dotted(loc), message))
        problems.sort(key=lambda p: (p.file != file, p.file, p.line, p.path))
        raise BlueprintError(problems) from None


def read_yaml(path: str | Path) -> tuple[Any, Lines]:
    """Read and parse a blueprint file, keeping the line of every value."""
    file = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise BlueprintError([Problem(file, 0, "(file)", "no such file: check the path "
                                      "(blueprints live in blueprints/examples/)")]) from None
    except (OSError, UnicodeDecodeError) as e:
        raise BlueprintError([Problem(file, 0, "(file)", f"cannot read: {e}")]) from None
    return parse_yaml(text, file)


def load(path: str | Path, *, rules: KnownRules | None = None) -> Blueprint:
    """Read and validate a blueprint file (waivers checked against `rules` when given)."""
    data, lines = read_yaml(path)
    return validate(data, lines, str(path), rules=rules)
