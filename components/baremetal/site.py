"""The own site: the environment component of a data centre, carrying its power envelope."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s

from blueprints.errors import ComponentArgsError
from blueprints.facts import SITE, SiteFacts, as_inputs
from components.base import FactoryComponent
from components.naming import child

DNS_LABEL = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")


@dataclass(frozen=True)
class SiteArgs:
    """Arguments of `Site`."""

    facts: SiteFacts
    """Country, power budget, PUE, feeds and racks: what the power policies read."""
    namespace: str | None = None
    """Namespace of the site's cluster for the provisioning objects (None: the hook needs none)."""
    labels: dict[str, str] = field(default_factory=dict)
    """Labels put on the Kubernetes objects the site creates."""


class Site(FactoryComponent):
    """An own data centre: its facts, and the namespace its provisioning objects live in.

    Give it the site's Kubernetes provider (`ResourceOptions(providers=[...])`): hosts and hooks
    below inherit it. The namespace is protected, because deleting it deletes every
    BareMetalHost in it, which deprovisions (wipes) the servers.
    """

    def __init__(self, name: str, args: SiteArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        if args.namespace is not None and not DNS_LABEL.match(args.namespace):
            raise ComponentArgsError(f"Site {name}: `namespace` ({args.namespace!r}) is not a "
                                     "Kubernetes namespace name: use lower-case letters, digits "
                                     "and '-'")
        if args.facts["powerBudgetKw"] <= 0 or args.facts["pue"] < 1.0:
            raise ComponentArgsError(
                f"Site {name}: `powerBudgetKw` ({args.facts['powerBudgetKw']}) must be positive "
                f"and `pue` ({args.facts['pue']}) at least 1.0: take both from the facility's "
                "measurements")
        super().__init__(SITE, name, as_inputs(args.facts), opts)
        self.namespace: pulumi.Output[str] | None = None
        if args.namespace is not None:
            ns = k8s.core.v1.Namespace(
                child(name, "provisioning"),
                metadata=k8s.meta.v1.ObjectMetaArgs(name=args.namespace, labels=args.labels),
                opts=self.data_opts(),
            )
            self.namespace = ns.metadata.apply(lambda m: str(m.name))
        self.environment = pulumi.Output.from_input(args.facts["environment"])
        self.register_outputs({"namespace": self.namespace, "environment": self.environment})
