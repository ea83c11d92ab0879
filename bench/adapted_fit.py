"""Gathering the scorers' fit data with each collection's own adapted model.

Each collection's model is adapted to its passages (``qa.adaptation``, as ``qa index adapt``
does, from the collection's eval index made by the shipped model) and kept in
``MODELS/<collection>``, or reused if it is there; the collection is then indexed with that
model (in ``MODELS/cache``) and its data gathered as ``bench.fit`` gathers it. The questions
are never seen by the adaptation, so comparing the fits held out is fair:

    python -m bench.fit --data /tmp/fit-base.pkl                         # the shipped model
    python -m bench.adapted_fit /tmp/adapted --data /tmp/fit-adapted.pkl   # minutes per collection
    python -m bench.fit --data /tmp/fit-adapted.pkl --against /tmp/fit-base.pkl
"""

from __future__ import annotations

import argparse
import pickle
import sys
from pathlib import Path

from bench.fit import DEFAULT_COLLECTIONS
from bench.fit_data import QuestionData, gather, open_collection
from qa.adaptation import adapt_model, stderr_progress
from qa.config import Settings, get_settings
from qa.embedding import Embedder
from qa.evaluation import Collection


def adapted_model(settings: Settings, collection: Collection, models: Path) -> Path:
    """The collection's adapted model folder, made first if it is not there yet."""
    folder = models / collection.name
    if folder.exists():
        return folder
    embedder = Embedder.from_settings(settings)
    retriever = open_collection(settings, embedder, collection, settings.cache_dir)

    adapt_model(
        retriever.data,
        retriever.index.version,
        embedder.path,
        embedder.weights_checksum,
        folder,
        progress=stderr_progress(collection.name),
    )
    return folder


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.adapted_fit", description=__doc__)
    parser.add_argument("models", type=Path, help="folder of the adapted models (made if missing)")
    parser.add_argument("collections", nargs="*", default=list(DEFAULT_COLLECTIONS))
    parser.add_argument("--data", type=Path, required=True, help="where to save the gathered data")
    args = parser.parse_args(argv)
    args.models.mkdir(parents=True, exist_ok=True)
    settings = get_settings().model_copy(update={"answer_workers": 0})
    by_collection: dict[str, list[QuestionData]] = {}
    for spec in args.collections:
        collection = Collection.parse(spec)
        folder = adapted_model(settings, collection, args.models)
        adapted = settings.model_copy(
            update={"model": str(folder), "cache_dir": args.models / "cache"}
        )
        embedder = Embedder.from_settings(adapted)
        by_collection[collection.name] = gather(adapted, embedder, collection, adapted.cache_dir)
    args.data.write_bytes(pickle.dumps(by_collection))
    print(f"wrote {args.data}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
