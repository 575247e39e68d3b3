"""Bare-metal building blocks: the site, its hosts, their provisioning hooks and GPU pools."""

from aifactory.components.baremetal.command import CommandHost, CommandHostArgs
from aifactory.components.baremetal.gpu_pool import GpuPool, GpuPoolArgs
from aifactory.components.baremetal.host import Host, HostArgs
from aifactory.components.baremetal.metal3 import Metal3Host, Metal3HostArgs
from aifactory.components.baremetal.site import Site, SiteArgs
from aifactory.components.baremetal.tinkerbell_host import (
    BootAddress,
    TinkerbellHost,
    TinkerbellHostArgs,
)
from aifactory.components.baremetal.tinkerbell_template import (
    TinkerbellTemplate,
    TinkerbellTemplateArgs,
)

__all__ = [
    "BootAddress",
    "CommandHost",
    "CommandHostArgs",
    "GpuPool",
    "GpuPoolArgs",
    "Host",
    "HostArgs",
    "Metal3Host",
    "Metal3HostArgs",
    "Site",
    "SiteArgs",
    "TinkerbellHost",
    "TinkerbellHostArgs",
    "TinkerbellTemplate",
    "TinkerbellTemplateArgs",
]
