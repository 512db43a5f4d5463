"""Signals other apps may listen to (through akun.roster.api)."""

from django.dispatch import Signal

# Sent after an import that changed the roster has committed; kwargs: run (ImportRun).
roster_imported = Signal()
