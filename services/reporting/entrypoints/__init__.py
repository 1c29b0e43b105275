"""How the reporting service is reached: its HTTP app and its command line."""
