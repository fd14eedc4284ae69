"""The pure core: taxonomy, competitor list, tokens, calendars, the parse-and-classify step. No I/O."""
