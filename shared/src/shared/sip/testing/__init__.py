"""Test peers for the SIP layer: sipp control, a loopback DNS server, scripted UDP peers.

Used by this package's tests and the benchmark; services may use them in their own tests.
Everything binds to loopback only.
"""
