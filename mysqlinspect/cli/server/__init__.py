"""Live server commands: status, durability, watch, check."""
