"""Stages registered by name, so that ``configs/pipeline.toml`` can assemble them.

A stage factory takes its settings (keyword arguments from the config) and returns a callable
``Doc -> Doc``. Registering is done with the :func:`stage` decorator where the stage is defined.
"""
from __future__ import annotations

import inspect
from pathlib import Path
from typing import Callable

from .doc import Doc

StageFn = Callable[[Doc], Doc]
_FACTORIES: dict[str, Callable[..., StageFn]] = {}


def stage(name: str):
    """Register a stage factory under ``name``."""

    def register(factory: Callable[..., StageFn]) -> Callable[..., StageFn]:
        if name in _FACTORIES and _FACTORIES[name] is not factory:
            raise ValueError(f"stage {name!r} is registered twice")
        _FACTORIES[name] = factory
        return factory

    return register


def create(name: str, root: Path | None = None, **settings) -> StageFn:
    """Build the stage registered as ``name`` with its settings from the config.

    Factories that read files take a ``root`` argument: the folder their paths are relative to.
    """
    try:
        factory = _FACTORIES[name]
    except KeyError:
        known = ", ".join(sorted(_FACTORIES)) or "none"
        raise KeyError(f"unknown stage {name!r} (registered: {known})") from None
    if root is not None and "root" in inspect.signature(factory).parameters:
        settings["root"] = root
    return factory(**settings)


def registered() -> list[str]:
    return sorted(_FACTORIES)
