"""Backchain: the code. Rooms: understanding, routine, chat, adapters."""
