"""Oracles: what saaslens must find, computed in plain Python from the sandbox's ground truth.

``workforce`` computes every finding from the tenants' ground truth; each app's module turns that
app's provider objects into the facts the findings read, so a new app adds a module here (and
one line in ``workforce.ORACLES``), never an edit to the sandbox.
"""
