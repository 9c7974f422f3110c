"""Casework: opening cases, their lifecycle, what staff do with them (the chat desk and the
actions the chat, the CLI and the desk share), reminders, and people's rights over their data."""
