"""Fixtures of the analysis tests; the data shapes and the R runner live in r_support."""

from r_support import rscript  # noqa: F401 - the session fixture, found by pytest here
