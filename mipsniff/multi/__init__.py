"""Many capture files and a Dask cluster: map each file to its relevant frames, reduce in time order.

A ring buffer's files are one capture (RFC 6275 handovers straddle files); `pipeline.analyze` reports
them exactly as the single-process report would report their concatenation.

- `files`: expanding inputs (files, directories, globs), ordering by first timestamp, duplicates and
  overlaps, global frame numbering.
- `relevance`: which frames the map step keeps (the single-process prefilter and home addresses).
- `mapstep`: one file -> its relevant frames as Parquet in the workdir, keyed by content hash.
- `engine`: running the map step on a local process pool or a Dask cluster, with retries.
- `pipeline`: map, order, reduce through the report pipeline; `MultiResult.to_json`.
- `reduce`: the partitioned reduce, mobile nodes split by home address over the engine, merged exactly.
- `cli_run`: what `mipsniff report FILE [FILE ...] --engine/--scheduler/--workdir` does.
"""
