"""Open selection of party branch secretaries (党支部书记公开选拔), as an audited state machine."""

__version__ = "0.1.0"
