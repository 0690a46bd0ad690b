"""Permission bits, as VoIPbin defines them."""

from __future__ import annotations

from enum import IntFlag


class Permission(IntFlag):
    NONE = 0x0000
    PROJECT_SUPER_ADMIN = 0x0001
    CUSTOMER_AGENT = 0x0010
    CUSTOMER_ADMIN = 0x0020
    CUSTOMER_MANAGER = 0x0040


PERMISSION_NAMES = {
    "ProjectSuperAdmin": Permission.PROJECT_SUPER_ADMIN,
    "CustomerAgent": Permission.CUSTOMER_AGENT,
    "CustomerAdmin": Permission.CUSTOMER_ADMIN,
    "CustomerManager": Permission.CUSTOMER_MANAGER,
}
