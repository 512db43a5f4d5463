"""A local stand-in for Google's Admin SDK Directory API v1 (users, org units, schemas),
its batch endpoint and the OAuth token endpoint for service accounts: what Akun's Google
provisioning talks to in tests and benchmarks. docs/provisioning.md says what it follows."""

from standins.google.server import DEFAULT_SCOPES, Faults, GoogleStandin

__all__ = ["DEFAULT_SCOPES", "Faults", "GoogleStandin"]
