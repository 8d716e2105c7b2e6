"""Loopback stand-ins for the outside world: a Cloudflare-like edge and status pages.

They ship with the product because ``make demo`` and the benchmarks run against them; the
tests start the same servers. Each binds to 127.0.0.1 only and never sends traffic out.
"""
