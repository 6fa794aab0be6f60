"""The cross-app catalog: DuckDB views over the lake, and the reference tables they join.

It sits above the connectors (it reads every app's declaration through the registry: OCSF map,
identity keys, identity-provider title, broad scopes) and below the findings, which query it; the
lake underneath only stores. build: the catalog file and its statements; views: the derived views'
definitions and SQL; apps: what the catalog reads from the declarations; ocsf: OCSF's vocabulary.
"""
