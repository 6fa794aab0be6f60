"""Sandbox personality for Microsoft 365 (Microsoft identity platform + Microsoft Graph v1.0)."""

from saaslens_sandbox.microsoft365.personality import Microsoft365Personality

__all__ = ["Microsoft365Personality"]
