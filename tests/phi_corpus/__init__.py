"""Tests of deid's corpus part."""
