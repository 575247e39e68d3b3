"""The root component: the whole factory, carrying the settings every policy reads."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from blueprints.facts import FACTORY, FactoryFacts, as_inputs
from components.base import FactoryComponent


@dataclass(frozen=True)
class FactoryArgs:
    """Arguments of `Factory`."""

    facts: FactoryFacts
    """Factory-wide settings: jurisdiction, tags, policy thresholds, waivers."""


class Factory(FactoryComponent):
    """The AI factory: parent of every environment, pool and store."""

    def __init__(self, name: str, args: FactoryArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(FACTORY, name, as_inputs(args.facts), opts)
        self.factory_name = pulumi.Output.from_input(args.facts["factory"])
        self.register_outputs({"factory_name": self.factory_name})
