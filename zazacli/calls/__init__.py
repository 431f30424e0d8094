"""Calls, the product's main noun: dispatch, batch, phones, tail, stats, export and
transcripts. The domain: it talks to the API through `zazacli.api` and never prints."""
