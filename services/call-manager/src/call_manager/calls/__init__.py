"""The life of one outbound call: status rules, the per-call controller, inline actions."""
