"""The audit trail: one FHIR AuditEvent per access — every read, search, write, delete and bundle, and every
failed sign-in — stored as resources that only the registry's administration can read and nobody can change."""
