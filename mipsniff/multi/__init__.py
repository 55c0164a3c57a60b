"""Many capture files and a Dask cluster: map each file to its relevant frames, reduce in time order.

- `files`: expanding inputs (files, directories, globs), ordering by first timestamp, duplicates and
  overlaps, global frame numbering.
- `mapstep`: one file -> its relevant frames as Parquet in the workdir, keyed by content hash.
- `engine`: running the map step on a local process pool or a Dask cluster, with retries.
"""
