"""Shared plumbing: params, errors, outputs written whole, tables, seeds, worker pools."""
