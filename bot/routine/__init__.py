"""The programme over time: pure rules for plans, progression, progress and schedules."""
