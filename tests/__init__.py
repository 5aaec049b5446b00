"""Tests of Espresso Care."""
