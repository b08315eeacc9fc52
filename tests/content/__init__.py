"""Tests of the content package (search has its own folder)."""
