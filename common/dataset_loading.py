"""Load a dataset split, from the Hub or from a local folder, the one way every reader uses.

Everything that reads XFEVER (the harness's suite loader, `harness train-base`, `xfever validate`)
or XNLI / MultiNLI / KILT FEVER loads through here, through `datasets`' own code (card `configs`,
`dataset_info`, data-file resolution), so a folder reads the same way as its published copy.

A local folder is read afresh on every call. `datasets` caches a prepared copy of each config, with
its `dataset_info`, under a key that stays the same when a folder is rebuilt in place (a config named
in the card keeps its cache folder), so a later load got the old rows, or failed verifying the new
split sizes against the old ones (`NonMatchingSplitsSizesError` naming the old sizes).
`download_mode="force_redownload"` does not cure the second: the stale `dataset_info` is read back
from the cache folder before the download mode is looked at. Local folders therefore load through a
throwaway cache folder and are kept in memory. Hub ids use the normal cache, keyed by commit.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any


def is_local(dataset: str | Path) -> bool:
    """A folder on this machine (rather than a Hub id)."""
    return Path(dataset).is_dir()


@contextmanager
def _cache_dir(dataset: str | Path, cache_dir: str | None) -> Iterator[str | None]:
    if not is_local(dataset):
        yield cache_dir
        return
    with tempfile.TemporaryDirectory(prefix="xfever-load-") as fresh:
        yield fresh


def load_split(
    dataset: str | Path,
    config: str | None,
    split: str,
    *,
    revision: str | None = None,
    data_files: Mapping[str, str | list[str]] | None = None,
    cache_dir: str | None = None,
) -> Any:
    """`datasets.load_dataset(dataset, config, split=split)` for a Hub id or a local folder.

    `data_files` narrows the files read (say one split's file). A local folder's rows are always the
    ones it holds now (see the module docstring). Errors are `datasets`' own: callers name the split.
    """
    import datasets

    extra: dict[str, Any] = {} if data_files is None else {"data_files": dict(data_files)}
    with _cache_dir(dataset, cache_dir) as cache:
        if is_local(dataset):
            extra["keep_in_memory"] = True  # the cache folder goes away with this block
        return datasets.load_dataset(
            str(dataset), config, split=split, revision=revision, cache_dir=cache, **extra
        )


def load_builder(dataset: str | Path, config: str | None, *, revision: str | None = None) -> Any:
    """`datasets.load_dataset_builder`: the config's `info` (card `dataset_info`) and `config.data_files`
    (the files `datasets` resolves for each split), nothing prepared."""
    import datasets

    with _cache_dir(dataset, None) as cache:
        return datasets.load_dataset_builder(str(dataset), config, revision=revision, cache_dir=cache)


def config_names(dataset: str | Path, *, revision: str | None = None) -> list[str]:
    """The dataset's configs, in card order."""
    import datasets

    return list(datasets.get_dataset_config_names(str(dataset), revision=revision))


def data_files(
    dataset: str | Path, config: str | None, *, revision: str | None = None
) -> dict[str, list[str]]:
    """split -> the files `datasets` reads for it, resolved as it resolves them (globs: `de/edit-*`)."""
    files = load_builder(dataset, config, revision=revision).config.data_files or {}
    return {str(split): [str(f) for f in paths] for split, paths in files.items()}


def split_names(dataset: str | Path, config: str | None, *, revision: str | None = None) -> list[str]:
    """The splits `load_dataset` would give for `config`: its resolved data files' splits, else (a
    dataset without data files) the splits its `dataset_info` lists."""
    builder = load_builder(dataset, config, revision=revision)
    files = builder.config.data_files or builder.info.splits or {}
    return [str(split) for split in files]


def columns(dataset: Any, *names: str) -> dict[str, list[Any]]:
    """Columns of a loaded split as Python lists, read through Arrow in one conversion each.

    `dataset["col"]` in `datasets` 4 is a lazy column that formats row by row (a Python call per row
    and column: 12x slower on the 84k-row train split, issue 15); this reads the Arrow table the
    split holds (with its indices mapping applied, if it has one) and converts whole columns."""
    if getattr(dataset, "_indices", None) is not None:
        table = dataset.with_format("arrow")[:]
    else:
        table = dataset.data
    return {name: table.column(name).to_pylist() for name in names}
