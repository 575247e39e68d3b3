"""Pulumi ComponentResources, grouped by substrate: aws/, gcp/, baremetal/, platform/."""
