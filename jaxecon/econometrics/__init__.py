"""Regression estimators in JAX (filled in by the econometrics issue)."""
