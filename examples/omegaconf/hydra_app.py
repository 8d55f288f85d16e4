"""The same config under Hydra, with a config group that picks the secretwire environment.

The resolver must exist before ``@hydra.main`` composes the config, so register
it at import time (cheap: the manager is built on the first ``${secret:...}``)::

    from secretwire.adapters import omegaconf as sw_omegaconf

    sw_omegaconf.register()

    @hydra.main(version_base="1.3", config_path=".", config_name="hydra_config")
    def main(cfg): sw_omegaconf.check(cfg); ...

``hydra_config.yaml`` composes ``config.yaml`` with the config group ``env``; each
option (``env/development.yaml``, ``env/ci.yaml``) sets ``secretwire.environment``,
which picks the environment of ``secretwire.yaml`` that serves the secrets::

    python hydra_app.py            # env=development: the encrypted local store
    python hydra_app.py env=ci     # the APP_SECRET_* variables

Hydra saves the composed config in ``outputs/.../.hydra/config.yaml`` unresolved:
references, not values. Needs hydra-core (1.3 supports OmegaConf 2.2 and 2.3).
"""

from __future__ import annotations

import logging
import sys

import hydra
from omegaconf import DictConfig, OmegaConf

from secretwire import SecretwireError
from secretwire.adapters import omegaconf as sw_omegaconf

resolver = sw_omegaconf.register()
log = logging.getLogger(__name__)


@hydra.main(version_base="1.3", config_path=".", config_name="hydra_config")
def main(cfg: DictConfig) -> None:
    try:
        sw_omegaconf.check(cfg, source="config.yaml")
        manager = resolver.manager_for(cfg)  # the one secretwire.environment picks
    except SecretwireError as err:  # failed references, or environments that disagree
        print(f"error: {err}", file=sys.stderr)
        sys.exit(1)
    log.info("composed config:\n%s", OmegaConf.to_yaml(cfg))  # references, no values
    print(OmegaConf.to_yaml(sw_omegaconf.resolve(cfg, reveal=False)), end="")
    print(f"database url has {len(cfg.database.url)} characters")
    print(f"environment: {manager.environment} ({manager.provider.name})")


if __name__ == "__main__":
    main()
