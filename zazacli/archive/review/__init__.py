"""The transcript review behind `zaza calls review`: rules read from TOML (rules.py), phrases
matched as whole words whatever the case, accents and punctuation (phrases.py), a caller's
request not to be called again recognised in English, Spanish and French (optout.py), and
the evaluation over the archive, call by call (evaluate.py). No printing here.
"""
