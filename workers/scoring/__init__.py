"""Scores from a patient's answers (registry rules, section 4): when a QuestionnaireResponse is completed, the
scoring worker reads each instrument's items by their codes (``answers``), scores them (``instruments``; the
EQ-5D-5L index by a pluggable value set, ``value_sets``) and stores each score as an Observation derived from the
response (``observations``, ``worker``)."""
