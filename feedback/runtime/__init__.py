"""Runtime and infrastructure: settings, errors, the queue, the embedded Redis, logging, the demo world."""
