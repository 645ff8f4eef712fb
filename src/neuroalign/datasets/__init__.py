"""Dataset registry and loaders."""
