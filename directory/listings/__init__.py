"""Organisations, services, locations, schedules, taxonomy, places and notices
(HSDS 3 + crisis extensions)."""
