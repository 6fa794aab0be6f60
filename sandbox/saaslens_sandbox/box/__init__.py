"""Box sandbox personality: a generated enterprise behind Box's Platform API and its token endpoint."""

from saaslens_sandbox.box.api import BoxPersonality

__all__ = ["BoxPersonality"]
