"""The embedded services `runloom up` and `runloom dev-stack` run when none are configured."""
