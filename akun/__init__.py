"""Akun: learning accounts for a national school system, issued from the Dapodik roster."""

__version__ = "0.1.0"
