"""Therapist-editable YAML: topics, red flags, messages and the program."""
