"""Metal3 hook: a BareMetalHost per host, with its BMC credentials, user data and metadata."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s

from blueprints.errors import ComponentArgsError
from components.baremetal.boot import TOKEN_METADATA_KEY
from components.base import FactoryComponent
from components.naming import child

TYPE = "aifactory:baremetal:Metal3Host"
API_VERSION = "metal3.io/v1alpha1"
BMC_SCHEMES = ("redfish", "redfish+http", "redfish+https", "ipmi", "idrac-redfish",
               "ilo5-redfish")
CHECKSUM = re.compile(r"^(sha256|sha512):([0-9a-f]+)$")
MAC = re.compile(r"^[0-9a-f]{2}(:[0-9a-f]{2}){5}$")



@dataclass(frozen=True)
class Metal3HostArgs:
    """Arguments of `Metal3Host`."""

    hostname: str
    """Host name; also the BareMetalHost's name."""
    namespace: pulumi.Input[str]
    """Namespace the Metal3 operator watches."""
    bmc_address: str
    """BMC URL, e.g. redfish+https://10.0.0.5/redfish/v1/Systems/1."""
    bmc_credentials: pulumi.Input[str]
    """'user:password' of the BMC, a secret (from stack config)."""
    boot_mac: str
    """MAC address of the NIC that PXE boots."""
    image_url: str
    """OS image Metal3 writes to the disk."""
    image_checksum: str
    """'sha256:<hex>' or 'sha512:<hex>' of the image."""
    install_disk: str
    """Device the image is written to (root device hint)."""
    user_data: str
    """Rendered cloud-init user data (holds no secret)."""
    join_token: pulumi.Input[str]
    """kubeadm bootstrap token, a secret: put in the host's metaData, read by cloud-init."""
    labels: dict[str, str] = field(default_factory=dict)
    """Labels of the Kubernetes objects."""
    online: bool = True
    """Keep the host powered on."""


def image_format(url: str) -> str | None:
    """Disk image format Metal3 expects, from the image's file name (None: let Ironic detect)."""
    name = url.rsplit("/", 1)[-1].lower()
    if name.endswith((".qcow2", ".img")):
        return "qcow2"  # Ubuntu/Debian cloud images (*.img) are qcow2
    if name.endswith(".raw"):
        return "raw"
    if name.endswith(".iso"):
        return "live-iso"
    return None


def _split_credentials(value: str) -> tuple[str, str]:
    user, _, password = value.partition(":")
    return user, password


class Metal3Host(FactoryComponent):
    """A BareMetalHost with its BMC secret, user-data secret and metaData secret.

    The BareMetalHost is protected: deleting it makes Metal3 deprovision the server (automated
    cleaning wipes its disks), which nobody should get from an unreviewed `pulumi destroy`.
    """

    def __init__(self, name: str, args: Metal3HostArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        scheme = args.bmc_address.split("://", 1)[0]
        if "://" not in args.bmc_address or scheme not in BMC_SCHEMES:
            raise ComponentArgsError(f"Metal3Host {name}: `bmc_address` ({args.bmc_address!r}) "
                                     f"needs a scheme Metal3 drives: {', '.join(BMC_SCHEMES)}")
        checksum = CHECKSUM.match(args.image_checksum)
        if checksum is None:
            raise ComponentArgsError(f"Metal3Host {name}: `image_checksum` "
                                     f"({args.image_checksum!r}) must read sha256:<hex> or "
                                     "sha512:<hex>")
        if not MAC.match(args.boot_mac):
            raise ComponentArgsError(f"Metal3Host {name}: `boot_mac` ({args.boot_mac!r}) is not "
                                     "a lower-case MAC address such as 3c:fd:fe:b4:10:01")
        if not args.user_data.startswith("#cloud-config"):
            raise ComponentArgsError(f"Metal3Host {name}: `user_data` must start with "
                                     "#cloud-config: pass "
                                     "blueprints.compose.firstboot.render_user_data()")
        super().__init__(TYPE, name, {"hostname": args.hostname}, opts)

        def meta(suffix: str) -> k8s.meta.v1.ObjectMetaArgs:
            return k8s.meta.v1.ObjectMetaArgs(
                name=f"{args.hostname}-{suffix}" if suffix else args.hostname,
                namespace=args.namespace, labels=args.labels)

        credentials = pulumi.Output.secret(args.bmc_credentials).apply(_split_credentials)
        bmc = k8s.core.v1.Secret(
            child(name, "bmc"), metadata=meta("bmc"), type="Opaque",
            string_data={"username": credentials.apply(lambda c: c[0]),
                         "password": credentials.apply(lambda c: c[1])},
            opts=self.child_opts())
        user_data = k8s.core.v1.Secret(
            child(name, "user-data"), metadata=meta("user-data"), type="Opaque",
            string_data={"userData": args.user_data}, opts=self.child_opts())
        meta_data = k8s.core.v1.Secret(
            child(name, "meta-data"), metadata=meta("meta-data"), type="Opaque",
            string_data={"metaData": pulumi.Output.secret(args.join_token).apply(
                lambda token: json.dumps({TOKEN_METADATA_KEY: token}))},
            opts=self.child_opts())

        image: dict[str, str] = {"url": args.image_url, "checksum": checksum.group(2),
                                 "checksumType": checksum.group(1)}
        fmt = image_format(args.image_url)
        if fmt is not None:
            image["format"] = fmt
        secret_name = lambda s: s.metadata.apply(lambda m: m.name)  # noqa: E731
        spec = {
            "online": args.online,
            "bootMACAddress": args.boot_mac,
            "bootMode": "UEFI",
            "automatedCleaningMode": "metadata",
            "bmc": {"address": args.bmc_address, "credentialsName": secret_name(bmc)},
            "image": image,
            "rootDeviceHints": {"deviceName": args.install_disk},
            "userData": {"name": secret_name(user_data), "namespace": args.namespace},
            "metaData": {"name": secret_name(meta_data), "namespace": args.namespace},
        }
        k8s.apiextensions.CustomResource(
            child(name, "bmh"), api_version=API_VERSION, kind="BareMetalHost",
            metadata=meta(""), spec=spec,
            opts=self.data_opts(depends_on=[bmc, user_data, meta_data]))
        self.host_name = pulumi.Output.from_input(args.hostname)
        self.register_outputs({"host_name": self.host_name})
