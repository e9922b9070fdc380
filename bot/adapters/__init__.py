"""The front ends: Telegram, the console chat and the command line. They only translate."""
