"""Cohorts: ToT cohorts and madrasa classes, and who is in them."""
