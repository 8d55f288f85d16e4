"""Functions in a file of their own: assert_no_leak leaves out the caller's file only."""


def raise_holding(token: str) -> None:
    headers = {"X-Vault-Token": token}  # noqa: F841 - the leak under test
    raise ValueError("request failed")


def raise_clean(token: str | None) -> None:
    del token
    raise ValueError("request failed")
