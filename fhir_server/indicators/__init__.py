"""Quality indicators: Measures evaluated over the registry's facts.

A registry Measure (``profiles/Measure-*.json``) is a proportion whose populations are SQL conditions over the rows
of its Library — one row of facts per episode, an SQL query over the registry's materialized SQL-on-FHIR views
(``facts``). ``evaluate`` counts, per unit and period, the episodes meeting the denominator and those also meeting the
numerator, each episode in the period of its visit date moved by the Measure's attribution offset (``periods``);
``reports`` turns the counts into MeasureReports with Wilson intervals (``wilson``) and the small-number rule.
"""
