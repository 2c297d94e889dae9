"""Corpus verification on a Dask cluster: ``python3 -m telltale.cluster detect ...``.

The inputs are listed in the order ``telltale detect`` reads them and cut into shards of whole files; each Dask task
runs the ``telltale`` CLI on one shard (``detect --emit-partial``), and the client merges the partial results in input
order with ``telltale merge``, so the report is bit for bit the one ``telltale detect`` prints over the whole input
(spec/partial-results.md section 5).

Workers call the CLI rather than the Python binding: the binding exposes the per-token detector only, while the CLI
already holds everything a shard needs and that must match ``detect`` exactly (input formats, tokenizer, prompt,
de-duplication, the checksummed partial-file writer); a subprocess also keeps a crash or a stuck read away from the
worker process, and one binary on every node means one definition of the bits.
"""

from telltale.cluster.shards import Shard, list_inputs, make_shards

__all__ = ["Shard", "list_inputs", "make_shards"]
