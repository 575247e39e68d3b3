"""The lakehouse's Iceberg catalog on GCP: the BigLake metastore's Iceberg REST catalog
(https://biglake.googleapis.com/iceberg/v1/restcatalog), its warehouse the zone buckets.

One catalog of type BIGLAKE per lakehouse, its default location the first namespace's zone
bucket and every other zone it uses allowed as a restricted location; each namespace keeps its
tables under <zone bucket>/<namespace>. Credentials are vended: the catalog's own service
account is the one that may touch the namespace files (object user on those buckets), and
engines get downscoped credentials for the tables they may use. Teams are granted per
namespace (BigLake editor to writers, viewer to readers) as their Kubernetes identity through
Workload Identity Federation (the `lakehouse` service account of the team's namespace), so no
key exists. The catalog and its namespaces are protected and refuse deletion (PREVENT).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
from pulumi_gcp import biglake, storage

from blueprints.errors import ComponentArgsError
from components import naming
from components.base import FactoryComponent
from components.gcp.workload_access import workload_principal
from components.iceberg import SERVICE_ACCOUNT, CatalogNamespaceArgs, grants

WRITER_ROLE = "roles/biglake.editor"
READER_ROLE = "roles/biglake.viewer"
OBJECT_USER = "roles/storage.objectUser"
REST_ENDPOINT = "https://biglake.googleapis.com/iceberg/v1/restcatalog"


@dataclass(frozen=True)
class GcpIcebergCatalogArgs:
    """Arguments of `IcebergCatalog` (GCP)."""

    project: str
    """Project of the lakehouse."""
    project_number: str
    """Project number (the workload identity principals carry it)."""
    catalog_name: str
    """Catalog name (unique in the project)."""
    zone_buckets: Mapping[str, pulumi.Input[str]]
    """Bucket name of each lakehouse zone."""
    namespaces: tuple[CatalogNamespaceArgs, ...]
    """The namespaces."""
    team_namespaces: Mapping[str, str]
    """Every team a namespace names -> its Kubernetes namespace."""
    service_account: str = SERVICE_ACCOUNT
    """Kubernetes service account the teams' jobs reach the catalog as."""
    identity_project: str | None = None
    """Project of the teams' cluster, whose workload identity pool their principals are in
    (None: `project`)."""
    identity_project_number: str | None = None
    """Its project number (None: `project_number`)."""


def _validate(name: str, args: GcpIcebergCatalogArgs) -> None:
    where = f"IcebergCatalog {name}"
    if not args.namespaces:
        raise ComponentArgsError(f"{where}: namespaces is empty: declare at least one")
    if not re.fullmatch(r"[a-z][a-z0-9-]{0,62}", args.catalog_name):
        raise ComponentArgsError(f"{where}: catalog_name {args.catalog_name!r} is not 1-63 "
                                 "lower-case letters, digits and '-'")
    for ns in args.namespaces:
        if ns.zone not in args.zone_buckets:
            raise ComponentArgsError(f"{where}: namespace {ns.name!r} is in zone {ns.zone!r}, "
                                     f"which has no bucket (zones: {sorted(args.zone_buckets)})")
        for team in (*ns.writers, *ns.readers):
            if team not in args.team_namespaces:
                raise ComponentArgsError(f"{where}: namespace {ns.name!r} names team {team!r}, "
                                         f"which is not among {sorted(args.team_namespaces)}")


class IcebergCatalog(FactoryComponent):
    """A BigLake Iceberg catalog over the zone buckets, its namespaces and per-team grants."""

    def __init__(self, name: str, args: GcpIcebergCatalogArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        _validate(name, args)
        super().__init__("aifactory:gcp:IcebergCatalog", name, {
            "catalog": args.catalog_name, "grants": grants(args.namespaces),
            "zones": {ns.name: ns.zone for ns in args.namespaces},
            "endpoint": REST_ENDPOINT}, opts)
        zones = sorted({ns.zone for ns in args.namespaces},
                       key=lambda z: [ns.zone for ns in args.namespaces].index(z))
        home = args.zone_buckets[args.namespaces[0].zone]
        others = [args.zone_buckets[z] for z in zones[1:]]
        self.catalog = biglake.IcebergCatalog(
            naming.child(name, "catalog"), name=args.catalog_name, project=args.project,
            catalog_type="CATALOG_TYPE_BIGLAKE",
            credential_mode="CREDENTIAL_MODE_VENDED_CREDENTIALS",
            default_location=pulumi.Output.concat("gs://", home),
            restricted_locations_config=biglake.IcebergCatalogRestrictedLocationsConfigArgs(
                restricted_locations=[pulumi.Output.concat("gs://", b) for b in others])
            if others else None,
            deletion_policy="PREVENT",
            description="The lakehouse's Iceberg tables", opts=self.data_opts())
        vending = self.catalog.biglake_service_account.apply(lambda e: f"serviceAccount:{e}")
        for zone in zones:
            storage.BucketIAMMember(
                naming.child(name, zone, "vending"), bucket=args.zone_buckets[zone],
                role=OBJECT_USER, member=vending, opts=self.child_opts())
        self.namespaces: dict[str, biglake.IcebergNamespace] = {}
        for ns in args.namespaces:
            resource = naming.child(name, ns.name.replace("_", "-"))
            namespace = biglake.IcebergNamespace(
                resource, catalog=self.catalog.name, namespace_id=ns.name,
                project=args.project, deletion_policy="PREVENT",
                properties={"location": pulumi.Output.concat(
                    "gs://", args.zone_buckets[ns.zone], f"/{ns.name}"),
                    "aifactory-zone": ns.zone},
                opts=self.data_opts())
            self.namespaces[ns.name] = namespace
            for team, role in [*((t, WRITER_ROLE) for t in ns.writers),
                               *((t, READER_ROLE) for t in ns.readers)]:
                biglake.IcebergNamespaceIamMember(
                    naming.child(resource, team), catalog=self.catalog.name,
                    namespace_id=namespace.namespace_id, project=args.project, role=role,
                    member=workload_principal(args.identity_project or args.project,
                                              args.identity_project_number
                                              or args.project_number,
                                              args.team_namespaces[team],
                                              args.service_account),
                    opts=self.child_opts())
        self.endpoint = REST_ENDPOINT
        """The Iceberg REST endpoint (the warehouse is the catalog's name)."""
        self.register_outputs({"endpoint": self.endpoint, "catalog": self.catalog.name})

