"""The registry workflow fixtures, for the views to run over."""

from tests.registry.conftest import dispatching, mailbox  # noqa: F401
