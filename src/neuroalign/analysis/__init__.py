"""Analyses built on the metrics: the animal-pair loop, the IATC, model-vs-animal comparison with
masquerade, bootstraps and specificity."""
