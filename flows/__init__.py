"""YAML exercises and the engine that runs them on `transitions`."""
