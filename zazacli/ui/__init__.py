"""`zaza ui`: a full-screen terminal app over the same API client, archive, filters and
contact policy as the commands (a face, like `commands`; only `commands/ui.py` imports it).
Textual is imported here only, never at start-up."""
