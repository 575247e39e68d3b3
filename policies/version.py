"""Version of the policy rule set, reported by SARIF and the CrossGuard pack."""

VERSION = "0.1.0"
