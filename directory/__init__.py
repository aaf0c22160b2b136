"""aid-directory: a moderated, multilingual directory of aid services and shelters."""

__version__ = "0.1.0"
