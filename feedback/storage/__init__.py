"""Storage and lifecycle: the engine, the tables, and the one module that moves every state."""
