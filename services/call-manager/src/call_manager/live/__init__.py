"""Live calls: what this replica is dialing or talking on right now.

`registry.LiveCalls` holds the controllers and persists what they report; `groups`
coordinates the calls of one groupcall (ring_all, linear).
"""
