"""leadrouter-ingest."""
