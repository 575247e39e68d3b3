"""The offline plan: the real program under recording mocks, and the plan document."""
