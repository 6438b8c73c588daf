"""The local demo: the whole stack on one machine, and leads fed through the real front doors."""
