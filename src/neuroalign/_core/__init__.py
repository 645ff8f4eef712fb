"""The private core every layer builds on: errors, input validation, JSON round trips of results,
the package version, the one registry idiom and the basic statistics (column-wise Pearson,
Spearman–Brown). Imports nothing else of neuroalign."""
