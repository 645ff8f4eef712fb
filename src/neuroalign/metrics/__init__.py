"""Predictivity (forward, reverse, inter-animal noise-corrected EV) and representational metrics."""
