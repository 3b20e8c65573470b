"""minsheng's pipeline: ingest -> normalize -> segment -> extract -> link -> check -> write."""
