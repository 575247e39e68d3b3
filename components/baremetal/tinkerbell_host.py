"""Tinkerbell hook, per host: the Hardware record and the Workflow that images it."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s

from blueprints.errors import ComponentArgsError
from components.baremetal.tinkerbell_template import (
    JOIN_TOKEN_KEY,
    JOIN_TOKEN_REFERENCE,
)
from components.base import FactoryComponent
from components.naming import child

TYPE = "aifactory:baremetal:TinkerbellHost"
API_VERSION = "tinkerbell.org/v1alpha1"
MAC = re.compile(r"^[0-9a-f]{2}(:[0-9a-f]{2}){5}$")
LEASE_SECONDS = 86400


@dataclass(frozen=True)
class BootAddress:
    """A fixed address Tinkerbell's DHCP hands the boot NIC."""

    address: str
    """IPv4 address of the boot NIC."""
    network: str
    """CIDR of the boot network (gives the netmask)."""
    gateway: str
    """Default gateway."""
    name_servers: tuple[str, ...] = ()
    """DNS servers."""


@dataclass(frozen=True)
class TinkerbellHostArgs:
    """Arguments of `TinkerbellHost`."""

    hostname: str
    """Host name; also the Hardware's and the Workflow's name."""
    site: str
    """Site name (the Hardware's facility code)."""
    namespace: pulumi.Input[str]
    """Namespace the Tinkerbell controller watches."""
    boot_mac: str
    """MAC address of the NIC that PXE boots."""
    install_disk: str
    """Disk the image is written to."""
    template_name: pulumi.Input[str]
    """Name of the site's Template."""
    user_data: str
    """Rendered cloud-init user data Hegel serves the installed OS (holds no secret)."""
    join_token: pulumi.Input[str]
    """kubeadm bootstrap token, a secret: kept in a Secret the Hardware references, written to
    the disk by the site's Template."""
    address: BootAddress | None = None
    """Fixed address; None when the site's own DHCP server assigns one (proxy DHCP)."""
    labels: dict[str, str] = field(default_factory=dict)
    """Labels of the Kubernetes objects."""


class TinkerbellHost(FactoryComponent):
    """Hardware (DHCP, netboot, metadata, user data), the join-token Secret it references, and
    a Workflow binding it to the Template.

    The Workflow is protected: replacing it makes Tinkerbell run it again, which re-images the
    host and erases its disk.
    """

    def __init__(self, name: str, args: TinkerbellHostArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        if not MAC.match(args.boot_mac):
            raise ComponentArgsError(f"TinkerbellHost {name}: `boot_mac` ({args.boot_mac!r}) is "
                                     "not a lower-case MAC address such as 3c:fd:fe:b4:10:01")
        if args.address is not None and ipaddress.IPv4Address(args.address.address) not in \
                ipaddress.IPv4Network(args.address.network):
            raise ComponentArgsError(f"TinkerbellHost {name}: `address.address` "
                                     f"({args.address.address}) is outside "
                                     f"{args.address.network}: fix the host's boot_ip")
        if not args.user_data.startswith("#cloud-config"):
            raise ComponentArgsError(f"TinkerbellHost {name}: `user_data` must start with "
                                     "#cloud-config: pass "
                                     "blueprints.compose.firstboot.render_user_data()")
        super().__init__(TYPE, name, {"hostname": args.hostname}, opts)
        dhcp: dict[str, object] = {"mac": args.boot_mac, "hostname": args.hostname,
                                   "arch": "x86_64", "uefi": True}
        instance: dict[str, object] = {"id": args.boot_mac, "hostname": args.hostname,
                                       "allow_pxe": True, "always_pxe": False}
        if args.address is not None:
            net = ipaddress.IPv4Network(args.address.network)
            ip = {"address": args.address.address, "netmask": str(net.netmask),
                  "gateway": args.address.gateway, "family": 4}
            dhcp.update(ip=ip, lease_time=LEASE_SECONDS)
            if args.address.name_servers:
                dhcp["name_servers"] = list(args.address.name_servers)
            instance["ips"] = [{**ip, "management": True, "public": False}]
        metadata = k8s.meta.v1.ObjectMetaArgs(name=args.hostname, namespace=args.namespace,
                                              labels=args.labels)
        token = k8s.core.v1.Secret(
            child(name, "join-token"),
            metadata=k8s.meta.v1.ObjectMetaArgs(name=f"{args.hostname}-join-token",
                                                namespace=args.namespace, labels=args.labels),
            type="Opaque",
            string_data={JOIN_TOKEN_KEY: pulumi.Output.secret(args.join_token)},
            opts=self.child_opts())
        reference = {"name": token.metadata.apply(lambda m: m.name),
                     "namespace": args.namespace, "resource": "secrets", "version": "v1"}
        hardware = k8s.apiextensions.CustomResource(
            child(name, "hardware"), api_version=API_VERSION, kind="Hardware", metadata=metadata,
            spec={
                "disks": [{"device": args.install_disk}],
                "interfaces": [{"dhcp": dhcp,
                                "netboot": {"allowPXE": True, "allowWorkflow": True}}],
                "metadata": {"facility": {"facility_code": args.site},
                             "instance": instance, "state": "provisioning"},
                "userData": args.user_data,
                "references": {JOIN_TOKEN_REFERENCE: reference},
            },
            opts=self.child_opts())
        k8s.apiextensions.CustomResource(
            child(name, "workflow"), api_version=API_VERSION, kind="Workflow", metadata=metadata,
            spec={"templateRef": args.template_name, "hardwareRef": args.hostname,
                  "hardwareMap": {"device_1": args.boot_mac}},
            opts=self.data_opts(depends_on=[hardware, token]))
        self.hostname = pulumi.Output.from_input(args.hostname)
        self.register_outputs({"hostname": self.hostname})
