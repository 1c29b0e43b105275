"""Read side: answers from the read models and the log, each with the log position it reflects."""
