"""microsoft365: provider actions mapped to OCSF event classes and activities (https://schema.ocsf.io).

Source of the action names: directoryAudit activityDisplayName and the signIn resource: https://learn.microsoft.com/en-us/entra/identity/monitoring-health/reference-audit-activities.
"""

from __future__ import annotations

from saaslens.connectors.kit import OcsfMapping

MAPPINGS: tuple[OcsfMapping, ...] = (
    OcsfMapping("signIn", 3002, 1),
    OcsfMapping("nonInteractiveSignIn", 3002, 1),
    OcsfMapping("Add user", 3001, 1),
    OcsfMapping("Update user", 3001, 99),
    OcsfMapping("Delete user", 3001, 6),
    OcsfMapping("Hard Delete user", 3001, 6),
    OcsfMapping("Disable account", 3001, 5),
    OcsfMapping("Enable account", 3001, 2),
    OcsfMapping("Reset user password", 3001, 4),
    OcsfMapping("Reset password (self-service)", 3001, 4),
    OcsfMapping("Change user password", 3001, 3),
    OcsfMapping("Change password (self-service)", 3001, 3),
    OcsfMapping("User registered security info", 3001, 10),
    OcsfMapping("User deleted security info", 3001, 11, 2),
    OcsfMapping("Add member to group", 3006, 3),
    OcsfMapping("Remove member from group", 3006, 4),
    OcsfMapping("Add member to role", 3005, 3, 3),
    OcsfMapping("Add eligible member to role", 3005, 3, 3),
    OcsfMapping("Remove member from role", 3005, 4),
    OcsfMapping("Consent to application", 3005, 1),
    OcsfMapping("Add delegated permission grant", 3005, 1),
    OcsfMapping("Remove delegated permission grant", 3005, 2),
    OcsfMapping("Add app role assignment to service principal", 3005, 1),
    OcsfMapping("Add conditional access policy", 6003, 1),
    OcsfMapping("Update conditional access policy", 6003, 3),
    OcsfMapping("Delete conditional access policy", 6003, 4, 2),
    OcsfMapping("Add application", 6003, 1),
    OcsfMapping("Update application", 6003, 3),
    OcsfMapping("Add service principal", 6003, 1),
)
