"""The ai-factory CrossGuard policy pack: assembles the rules, nothing else.

    pulumi preview --policy-pack policies/pack
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repository root

from pulumi_policy import EnforcementLevel, PolicyPack

from policies.crossguard import PACK_NAME, policies

PolicyPack(name=PACK_NAME, enforcement_level=EnforcementLevel.MANDATORY, policies=policies())
