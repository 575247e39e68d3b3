"""`aifactory schema`: the blueprint JSON Schema, for editors that validate as you type."""

from __future__ import annotations

import argparse
import json
from typing import Any

from aifactory.commands.common import write_output


def blueprint_schema() -> dict[str, Any]:
    """JSON Schema (draft 2020-12) of a blueprint file."""
    from blueprints.spec.models import Blueprint

    schema = Blueprint.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://ai-factory.dev/schema/blueprint.json"
    return schema


def run(args: argparse.Namespace) -> int:
    write_output(json.dumps(blueprint_schema(), indent=2, sort_keys=True) + "\n", args.out)
    return 0


def register(sub: Any) -> None:
    p = sub.add_parser("schema", help="print the blueprint JSON Schema",
                       description="Print the JSON Schema of blueprint files (for editors: "
                       "yaml-language-server: $schema=...).")
    p.add_argument("--out", metavar="FILE", help="write to FILE instead of standard output")
    p.set_defaults(func=run)
