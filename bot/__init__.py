"""Backchain: a self-care coach for hip and lower-back pain."""
