"""Random identifiers: branch parameters, tags, Call-IDs (RFC 3261 sections 8.1.1.4-8.1.1.7)."""

from __future__ import annotations

import os

# RFC 3261 section 8.1.1.7: the magic cookie tells peers the branch is globally unique.
BRANCH_MAGIC = "z9hG4bK"


def new_branch() -> str:
    return BRANCH_MAGIC + os.urandom(10).hex()


def new_tag() -> str:
    return os.urandom(6).hex()


def new_call_id() -> str:
    return os.urandom(16).hex()
