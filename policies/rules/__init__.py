"""Every rule, one a module; `RULES` is the rule set all three runners evaluate."""

from __future__ import annotations

from dataclasses import dataclass

from policies.model import (
    MANIFEST_CHART_TAG_RULE,
    MANIFEST_CHART_VALUES_RULE,
    MANIFEST_CHECK_RULE,
    MANIFEST_CRD_RULE,
    MANIFEST_SCHEMA_RULE,
    Rule,
)
from policies.rules import (
    capacity_aws_quota,
    capacity_gcp_quota,
    capacity_instance_availability,
    capacity_multinode_fabric,
    capacity_serving_fits_pool,
    capacity_spot_interruption,
    capacity_team_quota_fits,
    capacity_utilisation_advisory,
    capacity_volume_class_exists,
    power_feed_redundancy,
    power_rack_cooling,
    power_rack_density,
    power_site_budget,
    security_cluster_private_endpoint,
    security_data_protected,
    security_iam_no_wildcard,
    security_instance_imdsv2,
    security_registry_immutable_scanned,
    security_storage_encryption_at_rest,
    sovereignty_chart_image_source,
    sovereignty_environment_own_site,
    sovereignty_image_registry_digest,
    sovereignty_key_region,
    sovereignty_key_rotation,
    sovereignty_network_no_public_exposure,
    sovereignty_replication_destination,
    sovereignty_resource_region,
    sovereignty_store_customer_keys,
    sovereignty_tags_residency_classification,
    sovereignty_telemetry_destination,
)

RULES: tuple[Rule, ...] = tuple(m.RULE for m in (
    # power and capacity envelope
    power_site_budget, power_feed_redundancy, power_rack_density, power_rack_cooling,
    capacity_aws_quota, capacity_gcp_quota, capacity_instance_availability,
    capacity_spot_interruption, capacity_utilisation_advisory, capacity_team_quota_fits,
    capacity_volume_class_exists, capacity_serving_fits_pool, capacity_multinode_fabric,
    # sovereignty (when the factory declares a jurisdiction)
    sovereignty_resource_region, sovereignty_environment_own_site,
    sovereignty_replication_destination,
    sovereignty_telemetry_destination,
    sovereignty_store_customer_keys, sovereignty_key_region, sovereignty_key_rotation,
    sovereignty_network_no_public_exposure, sovereignty_image_registry_digest,
    sovereignty_chart_image_source,
    sovereignty_tags_residency_classification,
    # security baseline (always)
    security_storage_encryption_at_rest, security_instance_imdsv2,
    security_cluster_private_endpoint, security_registry_immutable_scanned,
    security_iam_no_wildcard, security_data_protected,
))

BY_NAME: dict[str, Rule] = {r.name: r for r in RULES}


@dataclass(frozen=True)
class _KnownRules:
    """The names a waiver may name: every rule here, the manifest schema rules, and the rules
    checkov's checks are reported under (blueprints.spec.policy.KnownRules)."""

    names: frozenset[str]

    def knows(self, name: str) -> bool:
        return name in self.names or MANIFEST_CHECK_RULE.fullmatch(name) is not None

    def severity(self, name: str) -> str | None:
        if name in BY_NAME:
            return BY_NAME[name].severity
        if name in (MANIFEST_SCHEMA_RULE, MANIFEST_CRD_RULE) \
                or name.startswith("manifest-ckv-aif-"):
            return "high"  # our own manifest checks (aifactory.commands.check.manifest_rule)
        return "low" if self.knows(name) else None


KNOWN_RULES = _KnownRules(frozenset(BY_NAME) | {
    MANIFEST_SCHEMA_RULE, MANIFEST_CRD_RULE, MANIFEST_CHART_VALUES_RULE, MANIFEST_CHART_TAG_RULE})
"""What the blueprint loader checks waivers against (`load(..., rules=KNOWN_RULES)`)."""
