"""moto's server looks up the backend of a request's host once per host, not once per request.

moto 5.2.5's ``DomainDispatcherApplication.get_backend_for_host`` lists moto's package directory
(``os.listdir`` and an ``isdir`` for each of its ~200 entries) and then tries every backend's URL
patterns, for every request, while holding the dispatcher's one lock. A profile of the local
system at 50 sessions x 40 listeners (``make profile``) put a fifth of moto's CPU there, every
request of the system waiting on it in turn. The answer for a host never changes while the server
runs, so :func:`install` keeps it per dispatcher and host. Installed by ``local/moto_server.py``;
``tests/local_env/test_moto_dispatch.py`` fails once moto stops scanning per request, so this goes
then.
"""

from __future__ import annotations

from typing import Any

from moto.moto_server.werkzeug_app import DomainDispatcherApplication

_moto_lookup = DomainDispatcherApplication.get_backend_for_host


def get_backend_for_host(self: DomainDispatcherApplication, host: str | None) -> Any:
    """moto's lookup, remembered per host (moto calls this under ``self.lock``)."""
    known: dict[str | None, Any] = self.__dict__.setdefault("_backend_by_host", {})
    if host not in known:
        known[host] = _moto_lookup(self, host)
    return known[host]


def install() -> None:
    """Remember moto's host lookups (idempotent)."""
    DomainDispatcherApplication.get_backend_for_host = get_backend_for_host  # type: ignore[method-assign]
