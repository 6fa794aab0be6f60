"""Dropbox sandbox personality: a generated Dropbox Business team behind the team API (RPC endpoints
with /continue cursors), its audit log and its members' shared links."""

from saaslens_sandbox.dropbox.api import DropboxPersonality

__all__ = ["DropboxPersonality"]
