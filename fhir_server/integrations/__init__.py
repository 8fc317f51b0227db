"""Clients of the outside services Ryggrad calls (HelseID for access tokens, …)."""
