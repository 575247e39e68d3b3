"""A GPU pool of an own site: a named set of its hosts, carrying the pool's facts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi

from blueprints.errors import ComponentArgsError
from blueprints.facts import PoolFacts, as_inputs
from components.base import FactoryComponent

POOL_TYPE = "aifactory:baremetal:GpuPool"


@dataclass(frozen=True)
class GpuPoolArgs:
    """Arguments of `GpuPool`."""

    facts: PoolFacts
    """GPU model, GPUs per node, bounds: what the capacity policies and the queue read."""
    hostnames: Sequence[str]
    """Hosts of the site that make up the pool."""


class GpuPool(FactoryComponent):
    """On-prem GPU capacity: owned hosts, always on, counted against the site's power."""

    def __init__(self, name: str, args: GpuPoolArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        if not args.hostnames:
            raise ComponentArgsError(f"GpuPool {name}: `hostnames` is empty: a pool needs at "
                                     "least one host of the site")
        if args.facts["cloud"] != "onprem":
            raise ComponentArgsError(f"GpuPool {name}: facts are for cloud "
                                     f"{args.facts['cloud']!r}: this component is for own sites")
        props = {**as_inputs(args.facts), "hosts": list(args.hostnames)}
        super().__init__(POOL_TYPE, name, props, opts)
        self.hostnames = pulumi.Output.from_input(list(args.hostnames))
        self.gpus = pulumi.Output.from_input(args.facts["gpusPerNode"] * len(args.hostnames))
        self.register_outputs({"hostnames": self.hostnames, "gpus": self.gpus})
