"""Workflow graphs in format v1, by responsibility.

`schema` (shape and limits), `validate` (graph-wide rules and their issues),
`compiled` (the compiled graph the engine and the simulator route with), `diff`
(checksum and diff of versions), `issues` (what validation reports). Pure Python: no
Django, no Celery.
"""
