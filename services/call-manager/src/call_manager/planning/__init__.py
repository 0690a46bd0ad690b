"""Planning: a create request -> call and groupcall rows with their dial candidates.

Nothing here holds live state or touches the SIP stack: a plan is stored first, then
handed to `call_manager.live` to dial.
"""
