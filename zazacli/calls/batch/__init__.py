"""`zaza calls batch`: the CSV, the journal, the pacer and the run."""
