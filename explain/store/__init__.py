"""The results store: a dataset's predictions, embeddings and maps, sharded on disk.

`index(model, dataset, methods, out=...)` writes it; `open_store(path)` reads it (rows as a
pandas DataFrame, maps and embeddings memory-mapped, filters, class means) for notebooks and
the dashboard. Layout and shard ranges: `_layout`. `load_source(spec, split, class_set)` loads
the faces a store was built from (the spec `index` takes); `class_set_of(classes)` names the
class set ("fer7", "emo3") of a model's classes; `weights_sha256(model)` is the fingerprint a
manifest records of the model that built the store.

Format choices:
- Rows: one Parquet file per shard (pyarrow): ids, source, label, prediction, correctness,
  confidence, margin, loss and one probability column per class, float32.
- Maps: uint8 by default, round(255 * map): the error is at most 1/510, below what a
  256-colour colormap shows, at a quarter of float32's size (2.3 KB per 48x48 map);
  float16 (`map_dtype`) keeps 11 bits for metrics that want them.
- Embeddings: float32. They are D values per image against H*W for each map (320 against
  2,304 for the default model), so halving them saves little, while float16 would round the
  projections and overflow (inf) on a user model with activations above 65,504.
- Resume: a rerun with the same arguments writes only the shards that are missing; every
  shard file and class-mean file ends byte-identical to an uninterrupted run (same batches,
  same compiled step), the manifest identical but for its dates.
- Parallel writers: shard k covers ids [k * shard_size, ...) fixed by plan.json, and each
  shard is written atomically with its rows last, so workers (Ray, Dask) can write shards
  in any order; the manifest, written last, is what makes the store readable.
"""

from emolens.explain.store._plan import weights_sha256
from emolens.explain.store._sources import load_source
from emolens.explain.store.reader import Store, open_store
from emolens.explain.store.writer import class_set_of, index

__all__ = ["Store", "class_set_of", "index", "load_source", "open_store", "weights_sha256"]
