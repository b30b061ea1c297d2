"""Reliability tests against real server processes: replicas on one database, concurrent
conflicting requests over HTTP, and a crash (SIGKILL) in the middle of a burst of writes."""
