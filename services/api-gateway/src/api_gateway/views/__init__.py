"""Tiny views: check input, make one RPC, render the reply."""
