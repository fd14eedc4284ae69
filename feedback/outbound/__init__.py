"""Outbound mail: templates, rendering, the request and follow-up rounds, delivery through the relay."""
