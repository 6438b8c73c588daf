"""The domain: event models, topic names and the routing config model. Pure: no I/O."""
