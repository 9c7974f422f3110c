"""Application wiring: settings, channels, the command line."""
