"""The system of the end-to-end rotation: a user of OpenBao's ``userpass`` auth method.

``apply`` changes the user's password through Vault's API (as an admin), ``verify``
logs in as the user with the new password. Used as Python hooks (:func:`hooks`) and,
run as a program, as command hooks that read the values on stdin::

    python userpass.py apply|verify USER      # BAO_ADDR, SWT_BAO_ADMIN_TOKEN set
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable

import requests

from secretwire.lifecycle import HookCall


def enable(url: str, admin_token: str) -> None:
    """Mount ``userpass`` once per server."""
    headers = {"X-Vault-Token": admin_token}
    mounts = requests.get(f"{url}/v1/sys/auth", headers=headers, timeout=10).json()
    if "userpass/" not in mounts.get("data", mounts):
        answer = requests.post(
            f"{url}/v1/sys/auth/userpass", json={"type": "userpass"}, headers=headers, timeout=10
        )
        answer.raise_for_status()


def create_user(url: str, admin_token: str, user: str, password: str) -> None:
    answer = requests.post(
        f"{url}/v1/auth/userpass/users/{user}",
        json={"password": password, "token_policies": ["default"]},
        headers={"X-Vault-Token": admin_token},
        timeout=10,
    )
    answer.raise_for_status()


def set_password(url: str, admin_token: str, user: str, password: str) -> None:
    answer = requests.post(
        f"{url}/v1/auth/userpass/users/{user}/password",
        json={"password": password},
        headers={"X-Vault-Token": admin_token},
        timeout=10,
    )
    answer.raise_for_status()


def can_log_in(url: str, user: str, password: str) -> bool:
    answer = requests.post(
        f"{url}/v1/auth/userpass/login/{user}", json={"password": password}, timeout=10
    )
    return answer.status_code == 200


def hooks(
    url: str, admin_token: str, user: str
) -> tuple[Callable[[HookCall], None], Callable[[HookCall], bool]]:
    """(apply, verify) for ``user``."""

    def apply(call: HookCall) -> None:
        set_password(url, admin_token, user, call.new.reveal())

    def verify(call: HookCall) -> bool:
        return can_log_in(url, user, call.new.reveal())

    return apply, verify


def main() -> int:
    step, user = sys.argv[1], sys.argv[2]
    url, token = os.environ["BAO_ADDR"], os.environ["SWT_BAO_ADMIN_TOKEN"]
    new = json.loads(sys.stdin.read())["new"]
    if step == "apply":
        set_password(url, token, user, new)
        return 0
    return 0 if can_log_in(url, user, new) else 1


if __name__ == "__main__":
    raise SystemExit(main())
