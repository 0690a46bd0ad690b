"""How a call reaches the carrier: the INVITE's contents and the leg interface the
controller drives (implemented over the shared SIP layer, and by fakes in unit tests)."""
