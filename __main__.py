"""The Pulumi program: stack config -> blueprint -> compose. See stacks/ for the stacks."""

import pulumi

from blueprints.compose import compose
from blueprints.errors import InputError
from blueprints.stacks import ROOT, load_with_overrides
from policies.rules import KNOWN_RULES  # waivers name rules the policy pack knows

config = pulumi.Config("aifactory")
try:
    spec = load_with_overrides(ROOT / config.require("blueprint"), config.get_object("overrides"),
                               rules=KNOWN_RULES)
except InputError as e:  # a clear message, not a traceback, in `pulumi preview`
    raise pulumi.RunError(str(e)) from None

try:
    built = compose(spec)
except InputError as e:  # arguments a component refuses: the same clear message
    raise pulumi.RunError(f"blueprint {config.require('blueprint')}: {e}") from None
pulumi.export("factory", spec.name)
pulumi.export("environments", sorted(built.environments))
