"""Alerts: official alert feeds in (CAP 1.2, region-state JSON), alert notices, CAP and Atom out."""
