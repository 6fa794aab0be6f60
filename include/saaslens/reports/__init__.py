"""Compliance reports: `<lake>/reports/<date>/` with report.html and a CSV and Parquet per finding.

Import `saaslens.reports.build` (duckdb, pyarrow) only where a report is built, never at DAG parse time.
"""
