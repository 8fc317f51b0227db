"""The registry's reactions to its data, as internal subscribers (task channels): appointments in, episodes and PROM
Tasks out (``appointments``), by the registries' definitions (``definitions``: PlanDefinitions in ``profiles/``)
and the time rules of ``timing``."""
