"""The command-line tool (`aifactory plan|check|render|diff|schema`) and the offline plan
engine (plan/: the program under recording mocks, the plan document)."""
