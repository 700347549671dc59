"""The results store: a dataset's predictions, embeddings and maps, sharded on disk.

`index(model, dataset, methods, out=...)` writes it (resumable, atomic, in shards that
parallel workers could write); `open_store(path)` reads it for notebooks and the dashboard.
"""

from emolens.explain.store.reader import Store, open_store
from emolens.explain.store.writer import index

__all__ = ["Store", "index", "open_store"]
