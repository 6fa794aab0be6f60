"""saaslens: open-source SaaS app connectors for visibility and control.

Importing this package is cheap on purpose: the DAG file imports it at parse time, so nothing
here may pull in pandas, pyarrow, duckdb or great_expectations.
"""

__version__ = "0.1.0"
