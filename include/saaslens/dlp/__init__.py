"""Content inspection (DLP): text out of files (extract), validated detectors (detectors), and the
policies that turn matches into findings (docs/dlp.md)."""
