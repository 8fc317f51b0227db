"""Storage: every version of every resource, in SQLite or PostgreSQL, through SQLAlchemy Core."""
