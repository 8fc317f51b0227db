"""The registry Questionnaires, built from a catalogue of instruments (``instruments.py``) into Helsenorge-style
forms (``registry_forms.py``). ``make profiles`` writes them into ``profiles/``. The wording is neutral placeholder
text of our own: a registry imports its licensed wording as a new version of the same Questionnaire."""
