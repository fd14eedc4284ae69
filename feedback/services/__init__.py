"""What the workers and the CLI call: processing a reply, answers, review, requests, erase,
retention, status."""
