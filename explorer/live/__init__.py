"""Everything that trains: bundled datasets, the training loop, the shared disk cache, the small networks
the experiments train, transfer-learning cuts and the compression tools (pruning, int8, timing)."""
