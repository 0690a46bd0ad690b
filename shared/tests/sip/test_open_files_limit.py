"""The services lift their open-files limit to the hard one (a connection per carrier)."""

from __future__ import annotations

import resource

from shared.sip.stream import raise_open_files_limit


def test_soft_limit_is_raised_to_the_hard_one() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    try:
        if hard != resource.RLIM_INFINITY and hard > 64:
            resource.setrlimit(resource.RLIMIT_NOFILE, (64, hard))
        limit = raise_open_files_limit()
        assert limit >= soft
        if hard != resource.RLIM_INFINITY:
            assert limit == hard
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, 64), hard))
