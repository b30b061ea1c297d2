"""The follow-up tests share the walked-through selection (`flow`) and the real SMTP server."""

from .test_follow_up import flow, smtp_server  # noqa: F401 (fixtures)
