"""Backchain: a self-care coach for hip and lower-back pain.

One import root: `backchain.bot` (the code), `backchain.storage` (SQLite) and `backchain.content`
(the YAML a therapist edits). The folders `bot/`, `storage/` and `content/` of the source tree are
mapped onto these names by the build.
"""
