"""Where the project's own files are: configs, models and corpora live beside the package
(vnsec is installed from its checkout). Import-light on purpose: the CLI reads it at start-up."""
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG = PROJECT_ROOT / "configs" / "pipeline.toml"
