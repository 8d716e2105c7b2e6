from __future__ import annotations

# Loopback stand-ins for the outside world, shared by every test package.
pytest_plugins = ["tests.servers.fixtures"]
