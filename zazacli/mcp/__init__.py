"""`zaza mcp`: an MCP server over stdio, another face over the same core. The tools read
calls, transcripts, stats, agents and campaigns through the API client, the filters, the
archive and the contact policy the commands use, and dial only through calls/admission.py.
Only commands/mcp.py imports this package, and only it imports the `mcp` SDK (server.py)."""
