"""leadrouter-sla-watcher."""
