"""Benchmarks: one command each, printing a table of ratios measured in the same run."""
