"""Bare-metal building blocks: the site, its hosts, their provisioning hooks and GPU pools."""

from components.baremetal.command import CommandHost, CommandHostArgs
from components.baremetal.gpu_pool import GpuPool, GpuPoolArgs
from components.baremetal.host import Host, HostArgs
from components.baremetal.metal3 import Metal3Host, Metal3HostArgs
from components.baremetal.site import Site, SiteArgs
from components.baremetal.tinkerbell_host import (
    BootAddress,
    TinkerbellHost,
    TinkerbellHostArgs,
)
from components.baremetal.tinkerbell_template import (
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
