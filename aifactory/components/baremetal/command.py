"""Command hook: the site's own tooling (a Redfish or MAAS script) provisions each host."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_command as command

from aifactory.components.base import FactoryComponent
from aifactory.errors import ComponentArgsError
from aifactory.naming import child

TYPE = "aifactory:baremetal:CommandHost"


@dataclass(frozen=True)
class CommandHostArgs:
    """Arguments of `CommandHost`."""

    hostname: str
    """Host name, passed as HOSTNAME."""
    create: str
    """Command run on create (and when the first-boot files change)."""
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
    """Rendered cloud-init, passed as USER_DATA; its sha256 triggers a re-run."""
    user_data_sha256: str
    """sha256 of `user_data`."""
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
        "USER_DATA_SHA256": args.user_data_sha256,
        "JOIN_TOKEN": pulumi.Output.secret(args.join_token),
        "JOIN_TOKEN_PATH": args.join_token_path,
    }


class CommandHost(FactoryComponent):
    """A `command.local.Command` per host, run where `pulumi up` runs.

    Protected: its delete command deprovisions the server.
    """

    def __init__(self, name: str, args: CommandHostArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        for field_name in ("create", "delete"):
            if not getattr(args, field_name).strip():
                raise ComponentArgsError(f"CommandHost {name}: `{field_name}` is empty: give the "
                                         "command the site's tooling runs")
        if len(args.user_data_sha256) != 64:
            raise ComponentArgsError(f"CommandHost {name}: `user_data_sha256` "
                                     f"({args.user_data_sha256!r}) is not a sha256 hex digest")
        super().__init__(TYPE, name, {"hostname": args.hostname}, opts)
        environment = command_environment(args)
        command.local.Command(
            child(name, "provision"), create=args.create, delete=args.delete,
            environment=environment, triggers=[args.user_data_sha256],
            opts=self.data_opts())
        self.hostname = pulumi.Output.from_input(args.hostname)
        self.register_outputs({"hostname": self.hostname})
