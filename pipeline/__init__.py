"""vnsec: Vietnamese security-news analysis.

>>> from pipeline import analyze
>>> record = analyze("Hiểm họa đe dọa nhắn tin trực tuyến gia tăng ...")   # doctest: +SKIP
>>> record.threat.categories, [o.name for o in record.organizations]        # doctest: +SKIP

``analyze`` returns a :class:`pipeline.schema.Record` (a pydantic model; ``record.model_dump()``
gives the dict, ``record.model_dump_json()`` the JSON line the CLI writes). The stages and models
are loaded once, on the first call, from ``configs/pipeline.toml``.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from .schema import Record


def analyze(text: str, **meta: Any) -> "Record":
    """Analyse one article.

    Parameters
    ----------
    text : str
        Article text, raw or word-segmented with underscores.
    **meta
        Optional input fields kept in the record: ``id``, ``title``, ``url``, ``published``,
        ``feed``, ``source``.
    """
    from .language import default_pipeline

    return default_pipeline().analyze(text, **meta)


__all__ = ["analyze", "__version__"]
