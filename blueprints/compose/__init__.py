"""compose(spec): the one function that turns a validated blueprint into Pulumi components.

It runs unchanged under the real engine (`pulumi up`/`preview`), under recording mocks for the
offline plan, and in tests. Each substrate has its own module; this one only dispatches.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pulumi

from blueprints.compose.blame import blame
from blueprints.compose.facts import factory_facts
from blueprints.spec.models import Blueprint
from components.factory import Factory, FactoryArgs


@dataclass
class EnvironmentBuild:
    """What a substrate builder made for one environment, for the platform layer to build on."""

    environment: str
    """Environment name (a key of `spec.environments`)."""
    kind: str
    """aws, gcp or onprem."""
    component: pulumi.ComponentResource
    """The environment's component: parent of what the platform layer adds for it."""
    kubernetes: Any | None
    """pulumi_kubernetes.Provider for the environment's cluster (None when it has none)."""
    pools: dict[str, pulumi.ComponentResource] = field(default_factory=dict)
    """GPU pool components by pool name."""
    postgres_operator: pulumi.Resource | None = None
    """A site's CloudNativePG operator, when services keep their databases on the site."""
    object_store: pulumi.Resource | None = None
    """A site's MinIO tenant with its buckets and users, when it has object storage."""


@dataclass
class Built:
    """What a build produced, for the program's exports and for callers that compose further."""

    factory: Factory
    environments: dict[str, EnvironmentBuild] = field(default_factory=dict)
    """Per environment name: what its substrate builder made."""


Builder = Callable[[Blueprint, str, Any, Factory], EnvironmentBuild]


def _builder(kind: str) -> Builder:
    # Imported on demand so a plan of one substrate loads only that substrate's SDK modules.
    module = importlib.import_module(f"blueprints.compose.{kind}")
    return module.build_environment  # type: ignore[no-any-return]


def compose(spec: Blueprint, opts: pulumi.ResourceOptions | None = None) -> Built:
    """Create every component the blueprint describes."""
    from blueprints.compose import platform

    factory = Factory(spec.name, FactoryArgs(facts=factory_facts(spec)), opts)
    built = Built(factory=factory)
    for env_name, env in spec.environments.items():
        with blame(f"environments.{env_name}", env):
            built.environments[env_name] = _builder(env.kind)(spec, env_name, env, factory)
    platforms = platform.build_platform(spec, built)
    if spec.training_storage:
        from blueprints.compose.training_storage import build_training_storage

        build_training_storage(spec, built, platforms)
    return built
