"""Shared by every command: consoles, option declarations, printers, output safety, one-line errors.

Every string that comes from the user or from data (a model, layer, path, message) reaches rich
through :func:`esc` or as a :class:`~rich.text.Text`, never as markup. Errors, usage errors
included, are one line on stderr (exit codes in :mod:`neuroalign.cli`); :class:`OneLineErrors` is
the root command group that turns every exception into that line.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import tempfile
import warnings
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text
from typer.core import TyperGroup

from neuroalign._core.errors import ConfigError, NeuroAlignError
from neuroalign._core.jsonio import nan_to_none

out = Console(highlight=False)
err = Console(stderr=True, highlight=False)

# ------------------------------------------------------------------------------------- options
DataDir = Annotated[
    Path | None,
    typer.Option(
        "--data-dir",
        help="Folder holding the datasets (default: $NEUROALIGN_DATA).",
        show_default=False,
    ),
]
JsonFlag = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON on stdout.")]
Seed = Annotated[int, typer.Option("--seed", min=0, help="Random seed (results are reproducible).")]
Store = Annotated[
    Path | None,
    typer.Option(
        "--store",
        help="Results store (SQLite; default $NEUROALIGN_HOME/results.sqlite, else "
        "./neuroalign-results.sqlite).",
        show_default=False,
    ),
]
NoStore = Annotated[bool, typer.Option("--no-store", help="Do not read or write the store.")]
Recompute = Annotated[
    bool, typer.Option("--recompute", help="Compute even when the store has the result.")
]
Params = Annotated[
    list[str] | None,
    typer.Option(
        "--param",
        help="Benchmark parameter NAME=VALUE (repeatable; see `neuroalign bench list --json`).",
        show_default=False,
    ),
]
Layers = Annotated[
    list[str] | None,
    typer.Option(
        "--layer", help="Model layer (repeatable; default: the model's layers).", show_default=False
    ),
]
NDraws = Annotated[
    int | None,
    typer.Option("--n-draws", min=1, help="Split-half draws (default: the benchmark's)."),
]
NFolds = Annotated[
    int | None,
    typer.Option("--n-folds", min=2, help="Cross-validation folds (default: the benchmark's)."),
]


def _use_device(ctx: typer.Context, value: str | None) -> str | None:
    """``--device``: the default compute of this command and of the workers it starts, for the
    command's duration only (:func:`~neuroalign.solvers.compute.using_compute`)."""
    if value is None:
        return None
    from neuroalign.solvers.compute import as_compute, using_compute

    compute = as_compute(value)
    compute.xp  # noqa: B018 - a missing GPU is a usage error now, not after the data are loaded
    ctx.with_resource(using_compute(compute))
    return value


Device = Annotated[
    str | None,
    typer.Option(
        "--device",
        callback=_use_device,
        help="Where the mappings run (and models are read out): cpu, cuda or cuda:N "
        "(default: $NEUROALIGN_COMPUTE, else numpy on the CPU). Results are the same to 1e-8.",
        show_default=False,
    ),
]
JsonOut = Annotated[
    Path | None,
    typer.Option("--out", "-o", help="Also write the full result JSON here.", show_default=False),
]


# ------------------------------------------------------------------------------------ printing
def esc(value: Any) -> str:
    """``value`` as text rich prints literally (``[`` never starts markup)."""
    return escape(str(value))


def one_line(message: str) -> str:
    """``message`` on one line (newlines and runs of spaces become one space)."""
    return " ".join(str(message).split())


def print_error(message: str) -> None:
    err.print(f"[bold red]error:[/] {esc(one_line(message))}", soft_wrap=True)


def print_json(obj: Any) -> None:
    """``obj`` as strict JSON on stdout (NaN as null)."""
    text = json.dumps(nan_to_none(obj), indent=2, default=_json_default, allow_nan=False)
    sys.stdout.write(text + "\n")


def _json_default(o: Any) -> Any:
    import numpy as np

    if isinstance(o, np.ndarray):
        return nan_to_none(o.tolist())
    if isinstance(o, Path):
        return str(o)
    raise TypeError(f"not JSON-serialisable: {type(o).__name__}")


def records(df) -> list[dict]:
    """A DataFrame as JSON-ready records (NaN as null)."""
    return json.loads(df.to_json(orient="records"))


def frame_table(df, title: str, float_fmt: str = "{:.3f}") -> Table:
    """A rich table of ``df``; every cell and the title are plain text, never markup."""
    table = Table(title=Text(title), title_justify="left")
    for col in df.columns:
        numeric = df[col].dtype.kind in "iuf"
        table.add_column(Text(str(col)), justify="right" if numeric else "left")
    for row in df.itertuples(index=False):
        table.add_row(*[Text(_cell(v, float_fmt)) for v in row])
    return table


def _cell(v: Any, float_fmt: str) -> str:
    if isinstance(v, bool) or type(v).__name__ == "bool_":
        return "yes" if v else "no"
    return float_fmt.format(v) if isinstance(v, float) else str(v)


_SUMMARY_COLUMNS = {
    "subject": "subject",
    "area": "area",
    "n_units": "units",
    "median": "median",
    "mean": "mean",
    "q25": "q25",
    "q75": "q75",
    "fraction_above_0.5": "> 0.5",
}


def summary_table(summary, title: str) -> Table:
    """A reliability summary (``subject, area, n_units, median, ...``) as a rich table."""
    cols = [c for c in _SUMMARY_COLUMNS if c in summary.columns]
    return frame_table(summary[cols].rename(columns=_SUMMARY_COLUMNS), title)


# ----------------------------------------------------------------------------- parsing options
def csv(values: Iterable[str] | None) -> list[str]:
    """Comma-separated and/or repeated option values as one list, blanks dropped."""
    return [v.strip() for item in values or [] for v in item.split(",") if v.strip()]


def parse_params(
    items: list[str] | None, n_draws: int | None = None, n_folds: int | None = None
) -> dict[str, Any]:
    """``--param NAME=VALUE`` (VALUE read as JSON when it parses, else text) plus ``--n-draws`` and
    ``--n-folds`` when given."""
    params: dict[str, Any] = {}
    for item in items or []:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise ConfigError(f"--param takes NAME=VALUE, got {item!r}.")
        try:
            params[name.strip()] = json.loads(value)
        except (json.JSONDecodeError, RecursionError):
            params[name.strip()] = value
    for name, value in (("n_draws", n_draws), ("n_folds", n_folds)):
        if value is not None:
            params[name] = value
    return params


# ------------------------------------------------------------------------------ output safety
def _same(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve() or (a.exists() and b.exists() and a.samefile(b))
    except OSError:
        return False


def check_output(
    path: Path, *, inputs: Iterable[Path] = (), stores: Iterable[Path] = (), what: str = "--out"
) -> Path:
    """Refuse, before any work, an output that would overwrite an input, a results store (its
    database, journal files or spool) or a folder; returns ``path``."""
    from neuroalign.bench.store import store_paths

    path = Path(path).expanduser()
    for p in inputs:
        if _same(path, Path(p).expanduser()):
            raise ConfigError(
                f"{what} {path} is also an input; it would be overwritten. Write to another file."
            )
    for store in stores:
        if Path(store).name and any(_same(path, p) for p in store_paths(store)):
            raise ConfigError(
                f"{what} {path} is the results store {store} (or one of its files); writing there "
                "would destroy the stored results. Write to another file."
            )
    if path.is_dir():
        raise ConfigError(f"{what} {path} is a folder; give a file name.")
    _check_writable(path, what)
    return path


def _check_writable(path: Path, what: str) -> None:
    """A file can be created beside ``path`` (probed in its folder, or the nearest existing one)."""
    folder = path.absolute().parent
    while not folder.exists():
        folder = folder.parent
    try:
        if not folder.is_dir():
            raise NotADirectoryError(f"{folder} is a file")
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        raise ConfigError(
            f"{what} {path} cannot be written ({exc.strerror or exc}); choose another place."
        ) from None


@contextlib.contextmanager
def atomic_output(path: Path) -> Iterator[Path]:
    """A temporary path beside ``path`` to write to; renamed onto ``path`` when the block ends
    without error (so ``path`` is never half-written), removed otherwise."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        yield Path(tmp)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)


def write_text(path: Path, text: str) -> Path:
    """Write ``text`` to ``path`` atomically (see :func:`atomic_output`)."""
    with atomic_output(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return path


# -------------------------------------------------------------------------------------- store
def store_path(store: Path | None) -> Path:
    """``--store``, else the default store path."""
    from neuroalign.bench.store import default_store_path

    path = Path(store).expanduser() if store is not None else default_store_path()
    if path.is_dir():
        raise ConfigError(f"--store {path} is a folder; give the results store's file (.sqlite).")
    return path


def open_store(store: Path | None, *, readonly: bool = False):
    """The results store for ``--store`` (default path when None); readers open it read-only."""
    from neuroalign.bench.store import ResultsStore

    if readonly:
        return ResultsStore(store_path(store), readonly=True)
    return ResultsStore(store_path(store))


@contextlib.contextmanager
def spool_notes(spooled: list[str]) -> Iterator[None]:
    """Collect in ``spooled`` the spool files of results the store could not take at once (they
    join it at its next write) and say where they are on stderr."""
    from neuroalign.bench.store import SpoolWarning

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", SpoolWarning)
        try:
            yield
        finally:
            for w in caught:
                if isinstance(w.message, SpoolWarning):
                    spooled.append(str(w.message.path))
                else:
                    warnings.showwarning(w.message, w.category, w.filename, w.lineno)
            for path in spooled:
                err.print(
                    f"[yellow]spooled:[/] the store was busy; the result waits in {esc(path)} "
                    "and joins the store at its next write",
                    soft_wrap=True,
                )


# ----------------------------------------------------------------------------------- errors
def _message(exc: BaseException) -> tuple[str, int]:
    """The one-line message and exit code of an exception raised by a command."""
    if isinstance(exc, ConfigError):
        return str(exc), 2
    if isinstance(exc, NeuroAlignError):
        return str(exc), 1
    if isinstance(exc, ImportError):
        name = exc.name or "a package"
        return (
            f"{exc}; install {name} (for the neural network models: pip install "
            "'neuroalign[torch]').",
            2,
        )
    if isinstance(exc, MemoryError):
        return (
            "out of memory; use fewer units, layers or stimuli (--param max_model_units=..., "
            "--layer ...) or a machine with more memory.",
            1,
        )
    if isinstance(exc, OSError) and (exc.filename or exc.strerror):
        where = f" {exc.filename}" if exc.filename else ""
        return f"cannot use{where}: {exc.strerror or exc}; check the path and its permissions.", 1
    text = one_line(str(exc)) or type(exc).__name__
    return (
        f"{type(exc).__name__}: {text} (unexpected; please report it with the command you ran)",
        1,
    )


def run_cleanly(fn: Callable[[], Any]) -> int:
    """Run a command; every way it can end becomes an exit code, errors one line on stderr."""
    try:
        rv = fn()
    except typer.Exit as exc:
        return exc.exit_code
    except typer.Abort:
        print_error("aborted.")
        return 1
    except typer.TyperException as exc:  # typer's usage errors: missing argument, bad value, ...
        if type(exc).__name__ == "NoArgsIsHelpError":  # the help was printed
            return 2
        ctx = getattr(exc, "ctx", None)
        hint = f" (see '{ctx.command_path if ctx is not None else 'neuroalign'} --help')"
        print_error(f"{exc.format_message()}{hint}")
        return int(getattr(exc, "exit_code", 2))
    except KeyboardInterrupt:
        err.print("[bold red]interrupted[/] (results already stored are kept)")
        return 130
    except Exception as exc:  # noqa: BLE001 - a CLI never shows a traceback
        message, code = _message(exc)
        print_error(message)
        return code
    if rv == 130:  # typer turns Ctrl-C during parsing or a command into this code
        err.print("[bold red]interrupted[/] (results already stored are kept)")
    return rv if isinstance(rv, int) else 0


class OneLineErrors(TyperGroup):
    """The root command group: every error, usage errors included, is one line on stderr."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        def invoke():
            return super(OneLineErrors, self).main(
                args, prog_name, complete_var, standalone_mode=False, **extra
            )

        code = run_cleanly(invoke)
        if standalone_mode:
            sys.exit(code)
        return code


__all__ = [
    "DataDir",
    "JsonFlag",
    "JsonOut",
    "Layers",
    "NDraws",
    "NFolds",
    "NoStore",
    "OneLineErrors",
    "Params",
    "Recompute",
    "Seed",
    "Store",
    "atomic_output",
    "check_output",
    "csv",
    "err",
    "esc",
    "frame_table",
    "one_line",
    "open_store",
    "out",
    "parse_params",
    "print_error",
    "print_json",
    "records",
    "run_cleanly",
    "spool_notes",
    "store_path",
    "summary_table",
    "write_text",
]
