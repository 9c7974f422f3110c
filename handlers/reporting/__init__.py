"""Reporting: the period tally, its files, the weekly summary and demo data."""
