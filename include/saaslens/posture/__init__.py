"""Security posture: rules over each instance's settings snapshot, with history (docs/posture.md)."""
