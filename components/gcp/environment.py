"""The GCP environment: a project and region, carrying its facts for the policies.

It creates nothing itself; it is the parent of the environment's building blocks, and the GCP
provider given in its options (project, region, default labels) is inherited by all of them.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from blueprints.errors import ComponentArgsError
from blueprints.facts import GCP_ENVIRONMENT, GcpEnvironmentFacts, as_inputs
from components.base import FactoryComponent


@dataclass(frozen=True)
class GcpEnvironmentArgs:
    """Arguments of `GcpEnvironment`."""

    facts: GcpEnvironmentFacts
    """Project, region and GPU quotas (blueprints.compose.facts.gcp_environment_facts)."""


class GcpEnvironment(FactoryComponent):
    """One GCP project and region: parent of its network, cluster, pools and stores."""

    def __init__(self, name: str, args: GcpEnvironmentArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        if args.facts["cloud"] != "gcp":
            raise ComponentArgsError(
                f"GcpEnvironment {name}: facts.cloud ({args.facts['cloud']!r}) must be 'gcp': "
                "build the facts with blueprints.compose.facts.gcp_environment_facts")
        super().__init__(GCP_ENVIRONMENT, name, as_inputs(args.facts), opts)
        self.project: pulumi.Output[str] = pulumi.Output.from_input(args.facts["project"])
        self.region: pulumi.Output[str] = pulumi.Output.from_input(args.facts["region"])
        self.register_outputs({"project": self.project, "region": self.region})
