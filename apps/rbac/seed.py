"""The roles every installation starts with; docs/access-control.md explains each one.

Used by a data migration (with the historical models) and by ``manage.py seed_roles``, which
puts a changed or deleted seed role back the way it is written here. Neither touches bindings.
"""

SEED_ROLES = {
    "customer": {
        "description": "A person using their own account: sees and manages only their own data.",
        "requires_mfa": False,
        "permissions": [
            "customers:read:own",
            "cards:read:own",
            "privacy-requests:create:own",
            "privacy-requests:read:own",
        ],
    },
    "partner-client": {
        "description": "A partner's system or staff: manages the partner's customers and cards. "
        "Bind it with the scope partner:<id>.",
        "requires_mfa": False,
        "permissions": [
            "customers:read:partner",
            "customers:create:partner",
            "customers:write:partner",
            "customers:delete:partner",
            "cards:tokenize:partner",
            "cards:read:partner",
            "privacy-requests:create:partner",
            "privacy-requests:read:partner",
            "access:check:partner",
        ],
    },
    "compliance-officer": {
        "description": "Works the data-subject request queue, reads consent and retention "
        "records and the vault access log, reviews access and grants roles.",
        "requires_mfa": True,
        "permissions": [
            "customers:read:all",
            "privacy-requests:read:all",
            "privacy-requests:write:all",
            "security-events:read:all",
            "consents:read:all",
            "consent-purposes:read:all",
            "retention-records:read:all",
            "roles:read:all",
            "role-bindings:read:all",
            "role-bindings:write:all",
            "object-grants:read:all",
            "object-grants:write:all",
            "access-reviews:read:all",
            "access-reviews:create:all",
            "access:check:all",
        ],
    },
    "security-analyst": {
        "description": "Triages incidents, tunes detection rules, blocks addresses and reads "
        "security events.",
        "requires_mfa": True,
        "permissions": [
            "security-events:read:all",
            "incidents:read:all",
            "incidents:write:all",
            "detection-rules:read:all",
            "detection-rules:write:all",
            "address-restrictions:read:all",
            "address-restrictions:create:all",
            "address-restrictions:write:all",
            "access-reviews:read:all",
            "access:check:all",
        ],
    },
    "administrator": {
        "description": "Everything, on every resource. Hand out sparingly and with an expiry.",
        "requires_mfa": True,
        "permissions": ["*:*:all"],
    },
}


def install(role_model, permission_model) -> None:
    """Create or restore the seed roles with exactly the permissions written above."""
    for name, spec in SEED_ROLES.items():
        role, _ = role_model.objects.update_or_create(
            name=name,
            defaults={"description": spec["description"], "requires_mfa": spec["requires_mfa"]},
        )
        permissions = []
        for text in spec["permissions"]:
            resource, action, scope = text.split(":")
            permission, _ = permission_model.objects.get_or_create(
                resource=resource, action=action, scope=scope
            )
            permissions.append(permission)
        role.permissions.set(permissions)
