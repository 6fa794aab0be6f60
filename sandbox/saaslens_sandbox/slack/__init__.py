"""Slack sandbox personality: a generated Enterprise Grid workspace behind the Web API and the
Audit Logs API."""

from saaslens_sandbox.slack.api import SlackPersonality

__all__ = ["SlackPersonality"]
