"""Tests of deid's fuzz part."""
