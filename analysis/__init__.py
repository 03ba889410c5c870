"""Pure statistics on tables: weights, estimates, scoring, index and export.

This package never imports Flask or the database, so it runs from a notebook on an exported CSV.
"""
