"""requests: intake of what units and schools submit — validated, authorised, recorded."""
