"""How the stores in this folder were made: with the file provider of main at 761194b
(before the provider moved onto the kit), run once as

    python tests/providers/data/file-store-v1/make_fixture.py

They are committed, never regenerated: tests/providers/test_localfile.py reads them
with today's provider to prove that stores written before the move stay readable.
The keys are test keys, for these files only.
"""

from __future__ import annotations

import base64
import os
from datetime import datetime, timezone
from pathlib import Path

from secretwire.providers.localfile import LocalFileProvider

HERE = Path(__file__).resolve().parent
PASSPHRASE = " correct horse battery staple, with spaces around "


def main() -> None:
    key = os.urandom(32)
    (HERE / "raw.key").write_text(base64.urlsafe_b64encode(key).decode() + "\n")
    raw = LocalFileProvider(HERE / "raw.store", key=key)
    raw.set("db/password", "first-password")
    raw.set(
        "db/password",
        "zweites Passwört ✓",
        metadata={"owner": "ops", "rotated-by": "ci"},
        tags={"env": "dev", "tier": "1"},
    )
    raw.set("api/token", "tok-123", expires_at=datetime(2099, 1, 2, 3, 4, 5, tzinfo=timezone.utc))
    raw.set("old/cert", "expired-cert", expires_at=datetime(2020, 1, 1, tzinfo=timezone.utc))
    raw.set("clé/🔑", "値\u0000\U0010ffff")
    raw.set("gone", "deleted")
    raw.delete("gone")
    os.environ["SW_FIXTURE_PASSPHRASE"] = PASSPHRASE
    phrase = LocalFileProvider(
        HERE / "passphrase.store", passphrase_env="SW_FIXTURE_PASSPHRASE", scrypt_n=2**10
    )
    phrase.set("team/secret", "shared value")
    for path in HERE.glob("*.lock"):
        path.unlink()


if __name__ == "__main__":
    main()
