"""leadrouter-notifier: tells reps, managers, pools and CRMs about assignments and escalations."""
