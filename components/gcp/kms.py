"""A Cloud KMS key ring with one rotating key per purpose, granted to the agents that use it.

The ring lives in the region of the data its keys protect: GKE, Compute Engine disks, regional
buckets and regional repositories accept only a key of their own location. One key per purpose
keeps every grant narrow: the Cloud Storage agent can use the lakehouse key and nothing else.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
from pulumi_gcp import kms

from blueprints.errors import ComponentArgsError
from components import naming
from components.base import FactoryComponent
from components.gcp.service_agents import ENCRYPTER_DECRYPTER

DAY_SECONDS = 86_400
KEY_ID = re.compile(r"^[a-zA-Z0-9_-]{1,63}$")


@dataclass(frozen=True)
class KmsKeysArgs:
    """Arguments of `KmsKeys`."""

    project: str
    """Project the key ring belongs to."""
    location: str
    """Region of the ring: the region of the data its keys protect, e.g. europe-west4."""
    ring_name: str
    """Key ring name (unique in project and location; rings cannot be deleted)."""
    keys: Mapping[str, Sequence[str]]
    """Keys by purpose (gke, disks, lakehouse, ...): the IAM members (service agents) granted
    encrypter/decrypter on each."""
    labels: Mapping[str, str] = field(default_factory=dict)
    """Labels put on every key."""
    rotation_days: int = 90
    """Days between automatic key rotations (1-3650); 90 meets most baselines."""
    destroy_scheduled_days: int = 30
    """Days a destroyed key version stays recoverable (1-120)."""


class KmsKeys(FactoryComponent):
    """A protected key ring and rotating keys, each granted only to the agents that use it."""

    def __init__(self, name: str, args: KmsKeysArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        _validate(name, args)
        super().__init__("aifactory:gcp:KmsKeys", name, None, opts)

        ring = kms.KeyRing(
            naming.child(name, "ring"),
            name=args.ring_name,
            project=args.project,
            location=args.location,
            opts=self.data_opts(),
        )
        self.keys: dict[str, kms.CryptoKey] = {}
        self.grants: dict[str, list[kms.CryptoKeyIAMMember]] = {}
        for purpose, users in args.keys.items():
            key = kms.CryptoKey(
                naming.child(name, purpose),
                name=purpose,
                key_ring=ring.id,
                purpose="ENCRYPT_DECRYPT",
                rotation_period=f"{args.rotation_days * DAY_SECONDS}s",
                destroy_scheduled_duration=f"{args.destroy_scheduled_days * DAY_SECONDS}s",
                version_template={"algorithm": "GOOGLE_SYMMETRIC_ENCRYPTION",
                                  "protection_level": "SOFTWARE"},
                labels={**args.labels, "purpose": naming.label_value(purpose)},
                opts=self.data_opts(),
            )
            self.keys[purpose] = key
            self.grants[purpose] = [
                kms.CryptoKeyIAMMember(
                    naming.child(name, purpose, _member_slug(member)),
                    crypto_key_id=key.id,
                    role=ENCRYPTER_DECRYPTER,
                    member=member,
                    opts=self.child_opts(),
                )
                for member in users
            ]
        self.ring_id: pulumi.Output[str] = ring.id
        self.key_ids: dict[str, pulumi.Output[str]] = {p: k.id for p, k in self.keys.items()}
        self.register_outputs({"ring_id": self.ring_id, "key_ids": self.key_ids})

    def key_id(self, purpose: str) -> pulumi.Output[str]:
        """Resource id of the key for `purpose` (projects/.../cryptoKeys/<purpose>)."""
        return self.key_ids[purpose]

    def grants_for(self, purpose: str) -> list[pulumi.Resource]:
        """The grants a resource encrypted with the `purpose` key must wait for."""
        return list(self.grants.get(purpose, []))


MULTI_REGIONS = ("europe", "us", "asia")
"""Cloud KMS multi-regions: the keys of dual-region buckets live there."""


def _member_slug(member: str) -> str:
    # serviceAccount:service-123@container-engine-robot.iam... -> container-engine-robot
    return member.split("@", 1)[-1].split(".", 1)[0]


def _validate(name: str, args: KmsKeysArgs) -> None:
    if not 1 <= args.rotation_days <= 3650:
        raise ComponentArgsError(
            f"KmsKeys {name}: rotation_days ({args.rotation_days}) must lie between 1 and 3650: "
            "use 90 unless a baseline asks for less")
    if not 1 <= args.destroy_scheduled_days <= 120:
        raise ComponentArgsError(
            f"KmsKeys {name}: destroy_scheduled_days ({args.destroy_scheduled_days}) must lie "
            "between 1 and 120: use 30")
    if not args.keys:
        raise ComponentArgsError(f"KmsKeys {name}: keys is empty: name at least one purpose")
    for purpose, users in args.keys.items():
        if not KEY_ID.fullmatch(purpose):
            raise ComponentArgsError(
                f"KmsKeys {name}: key purpose {purpose!r} is not a key id (1-63 letters, digits, "
                "'_' or '-'): rename it")
        slugs = [_member_slug(m) for m in users]
        if len(set(slugs)) != len(slugs):
            raise ComponentArgsError(
                f"KmsKeys {name}: keys[{purpose!r}] ({list(users)}) repeat a service "
                "agent: list each once")
    if args.location in ("global", "") or not (
            re.fullmatch(r"[a-z]+-[a-z]+\d+", args.location) or args.location in MULTI_REGIONS):
        raise ComponentArgsError(
            f"KmsKeys {name}: location ({args.location!r}) must be the region of the data the "
            "keys protect, e.g. europe-west4; regional resources reject global keys")
