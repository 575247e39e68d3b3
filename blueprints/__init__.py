"""The blueprint language and its compositions.

    spec/      the pydantic models of a blueprint and its line-numbered loader
    compose/   compose(spec): a validated blueprint -> Pulumi components (the only importer of
               the components package)
    facts.py   the facts contract: what components carry as inputs and the policies read
    errors.py  errors a user can fix (exit 2, never a traceback)
    stacks.py  stack files: the blueprint a stack names and its overrides
    examples/  the reference blueprints; schema.json, the JSON Schema for editors
"""
