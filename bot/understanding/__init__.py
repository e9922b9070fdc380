"""Text in, meaning out: matching, red flags, small talk. No database, no transport."""
