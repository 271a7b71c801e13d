"""SafePlace's application: Telegram adapter, command line, configuration and storage."""
