"""What operators look at: the terminal views (`leadrouter top`, `leadrouter assignments tail`)
and the web console `leadrouter-console` (docs/console.md), side by side on the same events."""
