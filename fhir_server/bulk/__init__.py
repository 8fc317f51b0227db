"""FHIR Bulk Data export (Bulk Data Access IG v2): ``$export`` kicks off a job (``kickoff``), a worker runs it by
paging through the server's own searches as the requesting principal (``runner``) into NDJSON files (``files``),
the client polls its status and downloads the files (``endpoints``), and the scheduler resumes stalled jobs and
removes expired ones (``sweep``)."""
