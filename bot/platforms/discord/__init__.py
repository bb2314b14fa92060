"""Discord adapter: slash commands, rendering and the Notifier, over discord.py."""
