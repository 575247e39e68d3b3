"""Custom checkov checks for the Kubernetes manifests the factory renders (CKV_AIF_<n>).

Loaded by `checkov --external-checks-dir policies/checkov` (policies.checkov_runner),
in checkov's own virtualenv: these files import checkov, never aifactory.
"""
