"""The one write path: change requests (propose → review → apply), audit entries, revert."""
