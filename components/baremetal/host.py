"""One bare-metal host: its facts (rack, GPUs, load) and the hook that provisions it."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from blueprints.errors import ComponentArgsError
from blueprints.facts import HOST, HostFacts, as_inputs
from components.baremetal.command import CommandHost, CommandHostArgs
from components.baremetal.metal3 import Metal3Host, Metal3HostArgs
from components.baremetal.tinkerbell_host import TinkerbellHost, TinkerbellHostArgs
from components.base import FactoryComponent

HookArgs = Metal3HostArgs | TinkerbellHostArgs | CommandHostArgs


@dataclass(frozen=True)
class HostArgs:
    """Arguments of `Host`."""

    facts: HostFacts
    """Hostname, rack, server model, GPUs and IT load: what the power policies read."""
    hook: HookArgs
    """How the host is provisioned: Metal3, Tinkerbell or the site's own command."""


class Host(FactoryComponent):
    """A server of an own site, and below it the resources of its provisioning hook."""

    def __init__(self, name: str, args: HostArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        if args.facts["itLoadKw"] <= 0:
            raise ComponentArgsError(f"Host {name}: `itLoadKw` ({args.facts['itLoadKw']}) must "
                                     "be positive: take it from "
                                     "blueprints.compose.facts.host_facts")
        if args.hook.hostname != args.facts["hostname"]:
            raise ComponentArgsError(f"Host {name}: the hook is for {args.hook.hostname!r} but "
                                     f"the facts for {args.facts['hostname']!r}: pass the same "
                                     "host to both")
        super().__init__(HOST, name, as_inputs(args.facts), opts)
        hook_opts = pulumi.ResourceOptions(parent=self)
        if isinstance(args.hook, Metal3HostArgs):
            Metal3Host(name, args.hook, hook_opts)
            kind = "metal3"
        elif isinstance(args.hook, TinkerbellHostArgs):
            TinkerbellHost(name, args.hook, hook_opts)
            kind = "tinkerbell"
        else:
            CommandHost(name, args.hook, hook_opts)
            kind = "command"
        self.hook = pulumi.Output.from_input(kind)
        self.hostname = pulumi.Output.from_input(args.facts["hostname"])
        self.register_outputs({"hostname": self.hostname, "hook": self.hook})
