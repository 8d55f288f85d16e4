"""Real test servers (OpenBao, moto), started once per test session.

Each backend module here defines one session-scoped fixture that starts its server
on a free loopback port, waits until it answers, and stops it at the end. They all
use :func:`start_server` below. A server that cannot start fails the tests that
need it; ``SECRETWIRE_TEST_SERVERS=optional`` turns that into a skip for a
developer machine that cannot run one, and CI never sets it. (No Key Vault emulator
runs on our machines yet: see docs/providers/azure.md.)
"""
