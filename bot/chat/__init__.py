"""The conversation flows: an Incoming in, an Outcome (replies as plain data) out."""
