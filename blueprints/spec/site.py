"""Blueprint spec: an own data centre (power envelope, racks, host inventory, provisioning)."""

from __future__ import annotations

import ipaddress
from typing import Any, Literal

from pydantic import (
    Field,
    ValidationError,
    ValidatorFunctionWrapHandler,
    field_validator,
    model_validator,
)

import catalog
from blueprints.spec.base import NAME_PATTERN, Strict, check_cidr, fail
from blueprints.spec.fabric import SiteFabric, site_fabric_problems
from blueprints.spec.inventory import (
    BMC,
    MAC,
    HostEntry,
    inventory_problems,
    parse_bmc,
    raw_boot_cidr,
    raw_hosts,
)
from blueprints.spec.site_services import (
    SiteDatabases,
    SiteObjectStorage,
    object_storage_problems,
)


class Equipment(Strict):
    """Non-GPU equipment in a rack that draws from its power: switches, storage, management."""

    kind: Literal["switch", "storage", "management", "other"] = Field(
        description="What it is: switch, storage, management (nodes) or other.")
    name: str = Field(min_length=1, max_length=100,
                      description="Model or role, e.g. 'SN5600 leaf' or 'VAST D-box'.")
    count: int = Field(1, ge=1, le=1000, description="How many of them the rack holds.")
    kw: float = Field(gt=0, le=250, description="Maximum draw of one, kW (its nameplate).")


class Rack(Strict):
    """A rack: its power limit, how it is cooled, and what else draws from it."""

    power_limit_kw: float = Field(gt=0, le=250, description="Power the rack may draw, kW.")
    cooling: Literal["air", "rear-door", "liquid"] = Field(description="How the rack is cooled.")
    other_kw: float = Field(
        0.0, ge=0, le=250,
        description="Non-GPU IT load in the rack besides its hosts (switches, storage, "
        "management nodes), kW: counted in the rack's and the site's IT load.")
    equipment: list[Equipment] = Field(
        default_factory=list,
        description="The rack's non-GPU equipment itemised (adds to other_kw).")


class Feeds(Strict):
    """A/B power feeds: with both, the whole IT load must fit on one."""

    a_kw: float = Field(gt=0, description="Capacity of feed A, kW.")
    b_kw: float = Field(gt=0, description="Capacity of feed B, kW.")


HostRole = Literal["gpu", "storage", "registry", "management"]


class Drives(Strict):
    """The data drives of a storage host (its boot disk not counted)."""

    count: int = Field(ge=1, le=128, description="Data drives in the host.")
    size_tb: float = Field(gt=0, le=200, description="Raw capacity of one drive, TB (10^12 "
                           "bytes, as drives are sold).")
    kind: Literal["nvme", "ssd", "hdd"] = Field("nvme", description="Drive kind.")

    @property
    def raw_tb(self) -> float:
        """Raw capacity of all the drives, TB."""
        return round(self.count * self.size_tb, 3)


class Host(Strict):
    """One bare-metal server in the site's inventory."""

    hostname: str = Field(pattern=r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$", description="Host name.")
    rack: str = Field(description="Rack the host stands in (a key of `racks`).")
    server_model: str = Field(description="Server model from the catalog, e.g. dgx-h100.")
    role: HostRole = Field(
        "gpu", description="What the host is for: gpu (runs GPU pools), storage (holds the "
        "site's object storage: its drives), registry (runs the site's registry) or "
        "management. Every role counts in its rack's and the site's power.")
    drives: Drives | None = Field(
        None, description="Storage hosts: their data drives (the site's storage capacity).")
    bmc_address: str = Field(
        pattern=BMC, description="BMC address, e.g. redfish://10.0.0.5/redfish/v1/Systems/1."
    )
    boot_mac: str = Field(pattern=MAC, description="MAC address of the boot NIC, lower case.")
    bmc_credentials: str = Field(
        pattern=r"^[a-zA-Z][a-zA-Z0-9_]*(:[a-zA-Z][a-zA-Z0-9_]*)?$",
        description="Stack config key of the secret holding 'user:password' for the BMC.",
    )
    boot_ip: str | None = Field(
        None, description="IPv4 address of the boot NIC on the site's boot_network (omit when "
        "the site's own DHCP server assigns it)."
    )

    @field_validator("boot_ip")
    @classmethod
    def _ipv4(cls, v: str | None) -> str | None:
        if v is not None:
            try:
                ipaddress.IPv4Address(v)
            except ValueError:
                raise ValueError(f"{v!r} is not an IPv4 address such as 10.10.0.21") from None
        return v

    @field_validator("server_model")
    @classmethod
    def _known_server(cls, v: str) -> str:
        catalog.server(v)
        return v

    @field_validator("bmc_address")
    @classmethod
    def _sound_bmc(cls, v: str) -> str:
        parse_bmc(v)  # a host that is an IP address or DNS name, a port 1-65535
        return v

    @model_validator(mode="after")
    def _role_fits_server(self) -> Host:
        server = catalog.server(self.server_model)
        problems: list[tuple[str, str]] = []
        if self.role == "gpu" and server.gpus == 0:
            problems.append(("role", f"{self.server_model} has no GPUs: give the host role "
                             "storage, registry or management, or a GPU server model"))
        if self.role != "gpu" and server.gpus > 0:
            problems.append(("role", f"{self.server_model} is a GPU server ({server.gpus} x "
                             f"{server.gpu}): a {self.role} host is a server without GPUs "
                             "(`aifactory catalog servers` lists them)"))
        if self.role == "storage" and self.drives is None:
            problems.append(("drives", "a storage host needs its data drives (count, size_tb): "
                             "they are the site's storage capacity"))
        if self.role != "storage" and self.drives is not None:
            problems.append(("drives", f"only storage hosts hold the site's data drives; this "
                             f"host's role is {self.role}"))
        fail(problems)
        return self


class CommandHook(Strict):
    """Commands the site's own tooling runs per host (pulumi-command)."""

    create: str = Field(min_length=1, description="Run on create; $HOSTNAME, $BMC_ADDRESS, ...")
    update: str | None = Field(
        None, min_length=1,
        description="Run when a host's first-boot files change (re-seed or re-provision); "
        "default: the create command.",
    )
    delete: str = Field(min_length=1, description="Run on delete.")


class Netboot(Strict):
    """The deploy kernel and initrd the rendered iPXE script boots, and where the seed is served."""

    kernel_url: str = Field(pattern=r"^https?://\S+$", description="Deploy kernel URL.")
    initrd_url: str = Field(pattern=r"^https?://\S+$", description="Deploy initrd URL.")
    seed_url: str = Field(
        pattern=r"^https?://\S+$",
        description="Base URL serving the rendered firstboot/ tree (the NoCloud seed).",
    )
    kernel_args: str = Field("", max_length=1000, description="Extra kernel arguments.")


class BootNetwork(Strict):
    """The network hosts boot on, for hooks that hand out addresses (Tinkerbell)."""

    cidr: str = Field(description="IPv4 CIDR of the boot network, e.g. 10.10.0.0/22.")
    gateway: str = Field(description="Default gateway on the boot network.")
    name_servers: list[str] = Field(default_factory=list, description="DNS servers handed out.")

    @field_validator("cidr")
    @classmethod
    def _cidr(cls, v: str) -> str:
        return check_cidr(v)

    @model_validator(mode="after")
    def _addresses(self) -> BootNetwork:
        problems: list[tuple[str, str]] = []
        for path, value in [("gateway", self.gateway)] + [
                (f"name_servers.{i}", s) for i, s in enumerate(self.name_servers)]:
            try:
                ipaddress.IPv4Address(value)
            except ValueError:
                problems.append((path, f"{value!r} is not an IPv4 address"))
        if not problems and ipaddress.IPv4Address(self.gateway) not in ipaddress.IPv4Network(
                self.cidr):
            problems.append(("gateway", f"{self.gateway} is outside {self.cidr}"))
        fail(problems)
        return self


class Provisioning(Strict):
    """How bare-metal hosts are provisioned."""

    hook: Literal["metal3", "tinkerbell", "command"] = Field(description="Provisioning hook.")
    namespace: str = Field("baremetal", pattern=NAME_PATTERN, description="Namespace for CRs.")
    image_url: str = Field(
        pattern=r"^https?://\S+$", description="OS image the hosts boot (qcow2 or raw)."
    )
    image_checksum: str = Field(
        pattern=r"^(sha256|sha512):[0-9a-f]{64,128}$", description="Checksum of the image."
    )
    command: CommandHook | None = Field(None, description="Commands, for the command hook.")
    install_disk: str = Field(
        "/dev/nvme0n1", pattern=r"^/dev/\S+$", description="Disk the image is written to."
    )
    root_partition: int = Field(
        1, ge=1, le=128, description="Partition of the image holding the root filesystem."
    )
    metadata_url: str | None = Field(
        None, pattern=r"^https?://\S+$",
        description="Tinkerbell: metadata service (Hegel) the installed OS reads cloud-init from.",
    )
    netboot: Netboot | None = Field(
        None, description="Deploy kernel/initrd for the rendered iPXE script (own PXE tooling)."
    )

    @model_validator(mode="after")
    def _command_needs_commands(self) -> Provisioning:
        if self.hook == "command" and self.command is None:
            fail([("hook", "hook 'command' needs a `command` block with create and delete")])
        if self.hook == "tinkerbell" and self.metadata_url is None:
            fail([("hook", "hook 'tinkerbell' needs `metadata_url`, the Hegel URL such as "
                   "http://10.10.0.5:50061 the installed OS reads its cloud-init from")])
        return self


class SiteCluster(Strict):
    """The site's existing Kubernetes cluster the hosts join."""

    kubeconfig: str = Field(
        pattern=r"^[a-zA-Z][a-zA-Z0-9_]*(:[a-zA-Z][a-zA-Z0-9_]*)?$",
        description="Stack config key of the secret kubeconfig of the site's cluster.",
    )
    api_endpoint: str = Field(pattern=r"^https://\S+$", description="API server URL for joins.")
    join_token: str = Field(
        pattern=r"^[a-zA-Z][a-zA-Z0-9_]*(:[a-zA-Z][a-zA-Z0-9_]*)?$",
        description="Stack config key of the secret kubeadm bootstrap token.",
    )
    kubernetes_version: str = Field("1.33", pattern=r"^1\.\d{2}$", description="kubelet version.")
    storage_class: str | None = Field(
        None, pattern=r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$",
        description="Existing StorageClass of the cluster that the platform's volumes use "
        "(Prometheus' data, and whatever else claims a volume). Required: the factory does not "
        "install storage on a site's own cluster.",
    )
    ca_cert_hash: str = Field(
        pattern=r"^sha256:[0-9a-f]{64}$",
        description="kubeadm discovery CA hash (public): joining nodes pin the cluster's CA to "
        "it. `openssl x509 -pubkey -in /etc/kubernetes/pki/ca.crt | openssl rsa -pubin "
        "-outform der | openssl dgst -sha256 -hex` on a control-plane node prints it.",
    )


class OnPremSite(Strict):
    """An own data centre: power envelope, racks and the host inventory."""

    kind: Literal["onprem"] = Field(description="Substrate of this environment.")
    country: str = Field(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2 country code.")
    power_budget_kw: float = Field(gt=0, le=500_000, description="Facility power budget, kW.")
    pue: float = Field(ge=1.0, le=3.0, description="Power usage effectiveness of the site.")
    feeds: Feeds | None = Field(None, description="A/B feeds, when the site has them.")
    racks: dict[str, Rack] = Field(min_length=1, description="Racks by name.")
    hosts: list[Host] = Field(min_length=1, description="Inventory of bare-metal hosts.")
    provisioning: Provisioning = Field(description="How the hosts are provisioned.")
    cluster: SiteCluster = Field(description="The site's Kubernetes cluster.")
    boot_network: BootNetwork | None = Field(
        None, description="Boot network, when hosts get fixed addresses (boot_ip)."
    )
    object_storage: SiteObjectStorage | None = Field(
        None, description="The site's object storage: a MinIO tenant on its storage hosts, "
        "encrypted through KES with the site's KMS (holds a lakehouse on the site and the "
        "site registry's images).")
    databases: SiteDatabases | None = Field(
        None, description="The site's PostgreSQL clusters (CloudNativePG, one per service that "
        "keeps a database on the site: Harbor, MLflow), backed up to its object storage.")

    @property
    def gpu_hosts(self) -> list[Host]:
        """The hosts GPU pools run on (role gpu)."""
        return [h for h in self.hosts if h.role == "gpu"]

    def hosts_of(self, role: HostRole) -> list[Host]:
        """The hosts of one role."""
        return [h for h in self.hosts if h.role == role]
    fabric: SiteFabric | None = Field(
        None, description="The compute fabric (InfiniBand or RoCE) the GPU hosts' adapters "
        "attach to: its switches count in their racks' power; the NVIDIA Network Operator "
        "sets the adapters up.")

    @model_validator(mode="wrap")
    @classmethod
    def _inventory(cls, data: Any, handler: ValidatorFunctionWrapHandler) -> OnPremSite:
        """Checks across hosts; they also run on the sound raw values when a field is wrong."""
        try:
            site: OnPremSite = handler(data)
        except ValidationError as e:
            if not isinstance(data, dict):
                raise
            racks = data.get("racks")
            problems = inventory_problems(
                raw_hosts(data.get("hosts")), list(racks) if isinstance(racks, dict) else None,
                data.get("boot_network") is not None, raw_boot_cidr(data.get("boot_network")))
            if not problems:
                raise
            found = ValueError("\n".join(f"@{path}|{message}" for path, message in problems))
            raise ValidationError.from_exception_data(e.title, [
                *e.errors(),  # type: ignore[list-item]
                {"type": "value_error", "loc": (), "input": data, "ctx": {"error": found}},
            ]) from None
        net = site.boot_network
        fail(inventory_problems(
            [HostEntry(i, h.hostname, h.rack, h.boot_mac, h.bmc_address, h.boot_ip)
             for i, h in enumerate(site.hosts)],
            list(site.racks), net is not None, net.cidr if net is not None else None)
            + object_storage_problems(site))
        if site.fabric is not None:
            fail(site_fabric_problems(site.fabric, list(site.racks)))
        return site
