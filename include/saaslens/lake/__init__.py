"""The Parquet lake: canonical tables written atomically, cursors stored beside the data."""
