"""Where a fit runs: devices, precision, memory and CPU threads."""
