"""HTTP routers, one module per area; each endpoint fetches, checks, and calls a service."""
