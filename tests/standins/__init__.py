"""Local stand-ins for the outside services Ryggrad talks to (real HTTP servers on 127.0.0.1, for tests)."""
