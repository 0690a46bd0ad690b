"""An asyncio SIP layer (RFC 3261/3263) shared by the health-checker and the call-manager."""
