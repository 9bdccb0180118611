"""The soak's tools: a faulting proxy, the workload that drives clients through it, the audit, and broken clients."""
