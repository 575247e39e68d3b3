"""Blueprint spec: what a site runs for itself so that the factory needs no cloud: its object
storage (a MinIO tenant on its storage hosts, encrypted through KES with the site's KMS).

Secrets are never in the blueprint: it names the stack config keys that hold them, as it does
for the site's kubeconfig and BMC credentials.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from pydantic import Field, model_validator

from blueprints.spec.base import Strict, fail

SECRET_KEY = r"^[a-zA-Z][a-zA-Z0-9_]*(:[a-zA-Z][a-zA-Z0-9_]*)?$"
"""A stack config key (`key`, or `namespace:key`)."""


class SiteKms(Strict):
    """The key management service KES keeps the tenant's keys in."""

    kind: Literal["vault", "fortanix"] = Field(
        description="vault: HashiCorp Vault's K/V engine, AppRole login; fortanix: Fortanix "
        "DSM (an HSM-backed KMS), API key login.")
    endpoint: str = Field(pattern=r"^https://\S+$",
                          description="The KMS's https:// endpoint, inside the site.")
    key_name: str = Field("minio-default", pattern=r"^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}$",
                          description="The key KES creates (if missing) and MinIO encrypts every "
                          "object under (SSE-KMS, the tenant's default).")
    prefix: str | None = Field(
        None, pattern=r"^[a-zA-Z0-9][a-zA-Z0-9_/-]{0,127}$",
        description="vault: the K/V prefix KES stores its keys under (default: the factory).")
    vault_namespace: str | None = Field(None, min_length=1, max_length=200,
                                        description="vault: an enterprise namespace.")
    group_id: str | None = Field(None, min_length=1, max_length=100,
                                 description="fortanix: the DSM group holding the keys.")
    credentials: str = Field(
        pattern=SECRET_KEY, description="Stack config key of the secret KES logs in with: "
        "vault 'role_id:secret_id' (AppRole), fortanix the API key.")

    @model_validator(mode="after")
    def _kind_fields(self) -> SiteKms:
        problems: list[tuple[str, str]] = []
        if self.kind == "fortanix" and self.group_id is None:
            problems.append(("group_id", "a fortanix KMS needs the DSM group_id its keys are in"))
        if self.kind != "fortanix" and self.group_id is not None:
            problems.append(("group_id", "only a fortanix KMS takes group_id"))
        if self.kind != "vault":
            for field in ("prefix", "vault_namespace"):
                if getattr(self, field) is not None:
                    problems.append((field, f"only a vault KMS takes {field}"))
        fail(problems)
        return self


class SiteObjectStorage(Strict):
    """The lakehouse on a site: a MinIO tenant on the site's storage hosts."""

    hosts: list[str] | None = Field(
        None, min_length=1,
        description="Storage hosts of the site the tenant's pool runs on, one MinIO server "
        "each (default: every host with role storage).")
    storage_class: str = Field(
        pattern=r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$",
        description="StorageClass of the storage hosts' local drives, one volume a drive "
        "(DirectPV's directpv-min-io, or a local-volume class the site runs).")
    parity: int = Field(
        4, ge=0, le=8, description="Erasure-code parity drives per erasure set (MinIO's "
        "EC:N, default 4): usable capacity is raw x (set - parity) / set.")
    root_credentials: str = Field(
        pattern=SECRET_KEY, description="Stack config key of the tenant's root credentials, "
        "'access_key:secret_key'.")
    kms: SiteKms = Field(description="Encryption at rest: KES with the site's KMS.")
    namespace: str = Field("lakehouse", pattern=r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$",
                           description="Namespace of the tenant.")


def site_lakehouse_problems(lake: object, environments: Mapping[str, object],
                            ) -> list[tuple[str, str]]:
    """A lakehouse and the environment it names: `site` on a site (its storage hosts, one
    pool of equal servers, parity the drives can carry), never in a cloud; no archive tier or
    replication on a site (the tenant has neither)."""
    from blueprints.spec.site import OnPremSite

    if lake is None:
        return []
    assert hasattr(lake, "environment") and hasattr(lake, "site") and hasattr(lake, "zones")
    env = environments.get(lake.environment)
    site: SiteObjectStorage | None = lake.site
    if env is None:
        return []
    if not isinstance(env, OnPremSite):
        return [("lakehouse.site", f"{lake.environment!r} is a cloud environment: its "
                 "buckets are the cloud's own; remove `site` (it describes a MinIO tenant on a "
                 "site's storage hosts)")] if site is not None else []
    if site is None:
        return [("lakehouse.site", f"required: {lake.environment!r} is a site, so the "
                 "lakehouse is a MinIO tenant on its storage hosts; give site.storage_class, "
                 "site.root_credentials and site.kms")]
    problems: list[tuple[str, str]] = []
    if getattr(lake, "replication", None) is not None:
        problems.append(("lakehouse.replication", "a site's tenant does not replicate to a "
                         "region: remove replication (site-to-site replication is not built)"))
    for zone, z in lake.zones.items():
        if getattr(z, "archive_after_days", None) is not None:
            problems.append((f"lakehouse.zones.{zone}.archive_after_days", "a site's tenant "
                             "has no archive tier: remove archive_after_days"))
    by_name = {h.hostname: h for h in env.hosts}
    if site.hosts is None:
        hosts = env.hosts_of("storage")
        if not hosts:
            problems.append(("lakehouse.site.hosts", f"{lake.environment!r} has no host with "
                             "role storage: add the storage hosts (role: storage, drives) to "
                             "its inventory"))
    else:
        hosts = []
        for i, name in enumerate(site.hosts):
            host = by_name.get(name)
            if host is None:
                problems.append((f"lakehouse.site.hosts.{i}", f"{name!r} is not in the "
                                 f"inventory of {lake.environment!r}"))
            elif host.role != "storage":
                problems.append((f"lakehouse.site.hosts.{i}", f"{name!r} is a {host.role} "
                                 "host: the tenant runs on storage hosts (role: storage)"))
            else:
                hosts.append(host)
    shapes = sorted({(h.drives.count, h.drives.size_tb) for h in hosts if h.drives})
    if len(shapes) > 1:
        problems.append(("lakehouse.site.hosts", "the tenant's pool needs servers with the same "
                         "drives, but its hosts have " + ", ".join(
                             f"{n} x {tb:g} TB" for n, tb in shapes) + ": list hosts of one "
                         "kind"))
    drives = sum(h.drives.count for h in hosts if h.drives)
    if hosts and len(shapes) == 1 and site.parity * 2 > drives:
        problems.append(("lakehouse.site.parity", f"parity {site.parity} needs at least "
                         f"{site.parity * 2} drives, the pool has {drives}: lower parity or "
                         "add storage hosts"))
    return problems


def erasure_set_size(drives: int) -> int:
    """The erasure set size MinIO picks for a pool of `drives` drives: the largest of 16..2
    that divides them (one set of all of them below 2)."""
    return next((n for n in range(16, 1, -1) if drives % n == 0), max(drives, 1))
