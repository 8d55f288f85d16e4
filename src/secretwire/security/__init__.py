"""Security building blocks below the providers.

* :mod:`.store_format` -- the encrypted store's file format: envelope, header, key
  derivation (scrypt), AES-256-GCM; it seals and opens bytes, never shows them;
* :mod:`.files` -- crash-safe files: atomic replace, an exclusive lock file, removal
  of the temporary files killed writers leave, private (0600) files.

The file provider (:mod:`secretwire.providers.localfile`) is built on both.
"""
