"""Stack secrets the blueprint names: the config key of a reference, and its value.

A blueprint never holds a secret: it names a stack secret (`pulumi config set --secret
aifactory:<name> ...`). The offline plan has no stack: it is given a masked placeholder for each
(aifactory.plan.document), recorded only as "[secret]".
"""

from __future__ import annotations

import pulumi

CONFIG_NAMESPACE = "aifactory"
OFFLINE_SECRET = "offline-placeholder"
"""What the offline plan stands in for each stack secret; recorded only as "[secret]"."""


def full_key(key: str) -> str:
    """The full stack config key of a blueprint's secret reference."""
    return key if ":" in key else f"{CONFIG_NAMESPACE}:{key}"


def stack_secret(key: str) -> pulumi.Output[str]:
    """A stack secret by the blueprint's reference; a clear error when it is not set."""
    namespace, _, name = full_key(key).partition(":")
    return pulumi.Config(namespace).require_secret(name)
