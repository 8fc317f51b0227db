"""The units' quality reports (registry rule N22): a unit's quarterly report (the last completed quarter) or annual
report on the NNRR indicators, the unit against the rest of the country.

One concern a module: ``indicators`` gathers the counts (``fhir_server.indicators.evaluate``), ``scores`` reads the
score distributions, ``charts`` draws them as SVG, ``rendering`` fills the HTML template, ``pdf`` prints the same
HTML, and ``document`` puts them together for the CLI (``ryggrad report``) and the ``$quality-report`` operation.
Only the unit itself is named; every other unit is part of "resten av landet".
"""
