"""A progress bar on stderr (rich), or nothing."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager


@contextmanager
def progress_bar(total: int, enabled: bool = True) -> Iterator[Callable[[int, int], None]]:
    """Yield `advance(files, faces)`, called as files are done; draws files done / total on stderr.

    Disabled, it draws nothing (and imports nothing).
    """
    if not enabled:
        yield lambda files, faces: None
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    columns = (
        TextColumn("explaining"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("files, {task.fields[faces]} faces"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=Console(stderr=True)) as bar:
        task = bar.add_task("explain", total=total, faces=0)
        count = {"faces": 0}

        def advance(files: int, faces: int) -> None:
            count["faces"] += faces
            bar.update(task, advance=files, faces=count["faces"])

        yield advance
