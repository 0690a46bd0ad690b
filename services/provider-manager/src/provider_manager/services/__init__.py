"""provider-manager's rules: validation beyond types, state changes, events."""
