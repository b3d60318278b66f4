"""Shipped recipe files (package data; located with importlib.resources)."""
