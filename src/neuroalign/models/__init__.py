"""Activations from PyTorch models, the model zoo, caching and layer commitment."""
