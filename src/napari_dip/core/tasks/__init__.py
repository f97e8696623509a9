"""Setting up a task: presets, the automatic choice, preparing and building a fit, stacks."""
