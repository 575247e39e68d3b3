"""Command hook: the site's own tooling (a Redfish or MAAS script) provisions each host."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_command as command

from blueprints.errors import ComponentArgsError
from components.baremetal.boot import digest
from components.base import FactoryComponent
from components.naming import child

TYPE = "aifactory:baremetal:CommandHost"


@dataclass(frozen=True)
class CommandHostArgs:
    """Arguments of `CommandHost`."""

    hostname: str
    """Host name, passed as HOSTNAME."""
    create: str
    """Command run once, when the host is first provisioned."""
    update: str
    """Command run when the host's first-boot files change (re-seed or re-provision)."""
    delete: str
    """Command run on delete."""
    bmc_address: str
    """BMC URL, passed as BMC_ADDRESS."""
    bmc_credentials: pulumi.Input[str]
    """'user:password' of the BMC, a secret, passed as BMC_CREDENTIALS."""
    boot_mac: str
    """Boot NIC, passed as BOOT_MAC."""
    image_url: str
    """OS image, passed as IMAGE_URL."""
    image_checksum: str
    """Image checksum, passed as IMAGE_CHECKSUM."""
    user_data: str
    """Rendered cloud-init, passed as USER_DATA (and its sha256 as USER_DATA_SHA256)."""
    ipxe_script: str
    """Rendered iPXE script (holds no secret), passed as IPXE_SCRIPT (and IPXE_SCRIPT_SHA256)."""
    join_token: pulumi.Input[str]
    """kubeadm bootstrap token, a secret, passed as JOIN_TOKEN (the script writes it to
    JOIN_TOKEN_PATH on the host)."""
    join_token_path: str
    """Path on the host where cloud-init expects the join token."""


def command_environment(args: CommandHostArgs) -> dict[str, pulumi.Input[str]]:
    """The variables the site's commands get. BMC_CREDENTIALS and JOIN_TOKEN are secrets, so
    Pulumi keeps the whole map secret in state and in previews."""
    return {
        "HOSTNAME": args.hostname,
        "BMC_ADDRESS": args.bmc_address,
        "BMC_CREDENTIALS": pulumi.Output.secret(args.bmc_credentials),
        "BOOT_MAC": args.boot_mac,
        "IMAGE_URL": args.image_url,
        "IMAGE_CHECKSUM": args.image_checksum,
        "USER_DATA": args.user_data,
        "USER_DATA_SHA256": digest(args.user_data),
        "IPXE_SCRIPT": args.ipxe_script,
        "IPXE_SCRIPT_SHA256": digest(args.ipxe_script),
        "JOIN_TOKEN": pulumi.Output.secret(args.join_token),
        "JOIN_TOKEN_PATH": args.join_token_path,
    }


class CommandHost(FactoryComponent):
    """A `command.local.Command` per host, run where `pulumi up` runs.

    Protected: its delete command deprovisions the server. So a change of the first-boot files
    must never be a replacement (Pulumi refuses to replace a protected resource): the files and
    their hashes are in the command's environment, which pulumi-command updates in place by
    running `update`. No `triggers`: the SDK marks them replace-on-change.
    """

    def __init__(self, name: str, args: CommandHostArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        for field_name in ("create", "update", "delete"):
            if not getattr(args, field_name).strip():
                raise ComponentArgsError(f"CommandHost {name}: `{field_name}` is empty: give the "
                                         "command the site's tooling runs")
        if not args.user_data.startswith("#cloud-config"):
            raise ComponentArgsError(f"CommandHost {name}: `user_data` must start with "
                                     "#cloud-config: pass "
                                     "blueprints.compose.firstboot.render_user_data()")
        if not args.ipxe_script.startswith("#!ipxe"):
            raise ComponentArgsError(f"CommandHost {name}: `ipxe_script` must start with #!ipxe: "
                                     "pass blueprints.compose.firstboot.render_ipxe()")
        super().__init__(TYPE, name, {"hostname": args.hostname}, opts)
        command.local.Command(
            child(name, "provision"), create=args.create, update=args.update,
            delete=args.delete, environment=command_environment(args),
            # stacks deployed before this hook dropped `triggers` still hold a hash there:
            # keeping the stored value is what lets them update instead of replacing
            opts=self.data_opts(ignore_changes=["triggers"]))
        self.hostname = pulumi.Output.from_input(args.hostname)
        self.register_outputs({"hostname": self.hostname})
