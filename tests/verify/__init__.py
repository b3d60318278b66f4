"""Tests of deid's verify part."""
