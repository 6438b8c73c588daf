"""leadrouter-router."""
