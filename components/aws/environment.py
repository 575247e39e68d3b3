"""An AWS environment: the parent of everything the factory runs in one account and region.

It carries the environment's facts (account, region, partition, vCPU quotas) as its own inputs,
so policies read them from the plan or from a CrossGuard preview without a side channel.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from blueprints.facts import AWS_ENVIRONMENT, AwsEnvironmentFacts, as_inputs
from components.base import FactoryComponent


@dataclass(frozen=True)
class EnvironmentArgs:
    """Arguments of `Environment`."""

    facts: AwsEnvironmentFacts
    """Account, region, partition and quotas of the environment."""


class Environment(FactoryComponent):
    """The environment component; its children inherit its AWS provider."""

    def __init__(self, name: str, args: EnvironmentArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(AWS_ENVIRONMENT, name, as_inputs(args.facts), opts)
        self.region: pulumi.Output[str] = pulumi.Output.from_input(args.facts["region"])
        self.account_id: pulumi.Output[str] = pulumi.Output.from_input(args.facts["accountId"])
        self.register_outputs({"region": self.region, "account_id": self.account_id})
