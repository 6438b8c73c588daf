"""What operators look at in a terminal: `leadrouter top` and `leadrouter assignments tail`."""
