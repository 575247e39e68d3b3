"""The blueprint spec and its loader."""

from aifactory.spec.loader import BlueprintError, Problem, load, parse_yaml, validate
from aifactory.spec.models import Blueprint

__all__ = ["Blueprint", "BlueprintError", "Problem", "load", "parse_yaml", "validate"]
