"""What the Iceberg catalogs of every substrate share: a namespace's zone and teams, the
service account teams reach the catalog as, and the grants that follow. Pure values only."""

from __future__ import annotations

from dataclasses import dataclass

SERVICE_ACCOUNT = "lakehouse"
"""Service account, in each team namespace, that reaches the catalog (IRSA, Workload
Identity, or a site's catalog credentials)."""


@dataclass(frozen=True)
class CatalogNamespaceArgs:
    """One Iceberg namespace: where its files live and who writes and reads it."""

    name: str
    """Namespace name as the blueprint gives it (raw, curated_events)."""
    zone: str
    """Lakehouse zone whose bucket holds its files."""
    writers: tuple[str, ...]
    """Teams that create, write and drop its tables (and read them)."""
    readers: tuple[str, ...] = ()
    """Teams that only read them."""


def grants(namespaces: tuple[CatalogNamespaceArgs, ...]) -> dict[str, dict[str, str]]:
    """Team -> namespace -> 'write' or 'read': what a catalog grants."""
    out: dict[str, dict[str, str]] = {}
    for ns in namespaces:
        for t in ns.writers:
            out.setdefault(t, {})[ns.name] = "write"
        for t in ns.readers:
            out.setdefault(t, {})[ns.name] = "read"
    return {t: dict(sorted(g.items())) for t, g in sorted(out.items())}
