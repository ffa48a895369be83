"""IP-phone provisioning service (``tnlab serve provisioning``): automatic number
negotiation over SIP with digest authentication, replacement of a phone by its headset, a
SIP registrar, phone configuration and an admin API over HTTP, all kept in SQLite (WAL).

Modules: :mod:`.sip` (strict SIP parsing), :mod:`.store` (the SQLite store, an API other
services may open on the same file), :mod:`.auth` (digest checks), :mod:`.registrar` (what
each request gets), :mod:`.server` (UDP with group commit), :mod:`.web` (HTTP),
:mod:`.main` and :mod:`.cli` (``tnlab serve provisioning``), :mod:`.client` (a small SIP
user agent for tests and the bench).  The logic without I/O is in
:mod:`models.provisioning`.  See ``docs/provisioning.md``.
"""
