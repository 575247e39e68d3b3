"""The blueprint spec and its loader."""

from blueprints.spec.loader import BlueprintError, Problem, load, parse_yaml, validate
from blueprints.spec.models import Blueprint

__all__ = ["Blueprint", "BlueprintError", "Problem", "load", "parse_yaml", "validate"]
