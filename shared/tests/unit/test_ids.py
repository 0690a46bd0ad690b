"""Ids: canonical spelling of UUIDs given to us, and random UUIDs made here."""

from __future__ import annotations

import os
import uuid

import pytest
from shared.ids import canonical_uuid, random_uuid, random_uuid_hex


def test_random_uuids_are_version_4_and_distinct() -> None:
    made = [random_uuid() for _ in range(5000)]  # crosses several 4 KiB refills
    assert len(set(made)) == len(made)
    for value in made[:300]:
        parsed = uuid.UUID(value)
        assert parsed.version == 4 and parsed.variant == uuid.RFC_4122
        assert str(parsed) == value
    hexed = random_uuid_hex()
    assert len(hexed) == 32 and uuid.UUID(hexed).version == 4


def test_a_forked_child_does_not_repeat_its_parents_ids() -> None:
    random_uuid()  # the parent now holds a buffer the child would inherit
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report its next id and leave at once
        os.write(write, random_uuid().encode())
        os._exit(0)
    os.close(write)
    os.waitpid(pid, 0)
    child = os.read(read, 64).decode()
    os.close(read)
    assert child and child != random_uuid()


def test_canonical_uuid_lowers_case_only() -> None:
    value = "ABCDEF01-2345-6789-ABCD-EF0123456789"
    assert canonical_uuid(value) == str(uuid.UUID(value))


@pytest.mark.parametrize(
    "bad",
    ["abcdef0123456789abcdef0123456789", "{abcdef01-2345-6789-abcd-ef0123456789}", "", "x"],
)
def test_canonical_uuid_refuses_other_spellings(bad: str) -> None:
    with pytest.raises(ValueError):
        canonical_uuid(bad)
