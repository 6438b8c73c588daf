"""The Kafka edge every service runs on: settings, codec, the exactly-once loop, state tables."""
