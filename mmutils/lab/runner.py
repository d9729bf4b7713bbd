"""``mmlab run``: the lab notebooks, headless, in order, with papermill.

With the emulator (the default) every run gets a private, fresh emulator whose state lives in the
run folder, so runs are deterministic and never disturb an emulator a JupyterLab session uses.
``--render`` re-renders the committed notebooks in place (default parameters, emulator only).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from mmutils.lab import executions
from mmutils.lab.kernels import KernelsAhead
from mmutils.lab.notebook import names, resolve_prefix
from mmutils.paths import NOTEBOOKS, REPO_ROOT

#: The lab, in order.
LAB_NOTEBOOKS = ("01_capture", "02_baseline", "03_schedule", "04_visualize", "05_model_quality")


class NotebookFailed(RuntimeError):
    """A notebook raised; the message names the notebook, the cell and the error."""


@dataclass
class RunReport:
    """What one ``mmlab run`` did."""

    output: Path
    backend: str
    prefix: str = ""
    notebooks: list[dict] = field(default_factory=list)
    executions: list[dict] = field(default_factory=list)
    seconds: float = 0.0

    def to_markdown(self) -> str:
        """The run summary as Markdown (written to ``summary.md``)."""
        lines = [
            f"# mmlab run — backend `{self.backend}`",
            "",
            f"Prefix: `{self.prefix}`",
            "",
            f"Total wall time: {self.seconds:.1f} s",
            "",
            "| notebook | seconds | executed copy |",
            "|---|---|---|",
        ]
        for nb in self.notebooks:
            lines.append(f"| {nb['name']} | {nb['seconds']:.1f} | `{nb['output']}` |")
        lines += ["", "## Monitoring executions", ""]
        if not self.executions:
            lines.append("No monitoring execution reports were found.")
        else:
            lines += [
                "| notebook | monitor | report folder | exit message | violations by check |",
                "|---|---|---|---|---|",
            ]
            for ex in self.executions:
                checks = (
                    ", ".join(f"{k}: {v}" for k, v in sorted(ex["violations"].items())) or "none"
                )
                lines.append(
                    f"| {ex['notebook']} | {ex['monitoring_type']} | `{ex['report']}` "
                    f"| {ex['exit_message']} | {checks} |"
                )
        return "\n".join(lines) + "\n"


def parse_parameters(pairs: list[list[str]] | None) -> dict:
    """``-p NAME VALUE`` pairs → parameters; values are read as JSON/Python literals when they can be."""
    params = {}
    for name, raw in pairs or []:
        params[name] = _literal(raw)
    return params


def _literal(raw: str):
    lowered = raw.strip()
    if lowered in ("True", "False"):
        return lowered == "True"
    if lowered == "None":
        return None
    try:
        return json.loads(lowered)
    except json.JSONDecodeError:
        return raw


class ParameterError(ValueError):
    """A ``-p NAME VALUE`` the notebooks do not declare, or a value they cannot use."""


#: the smallest value a numeric parameter may take, where the notebooks need one
MINIMUMS = {"N_REQUESTS": 1, "HOURS": 1, "SEED": 0}
#: set by ``mmlab run`` options, never with ``-p``
OPTION_PARAMETERS = {"BACKEND": "--backend"}
_BOOLEANS = {"true": True, "false": False}


def declared_parameters(notebooks: tuple[str, ...]) -> dict[str, dict]:
    """Every parameter the notebooks declare: name -> papermill's inspection (first one wins)."""
    found: dict[str, dict] = {}
    for name in notebooks:
        for key, info in notebook_parameters(NOTEBOOKS / f"{name}.ipynb").items():
            found.setdefault(key, {**info, "notebook": name})
    return found


def _default(info: dict):
    import ast

    try:
        return ast.literal_eval(str(info.get("default")))
    except (ValueError, SyntaxError):
        return None


def _coerce(name: str, value, default):
    """``value`` as the type of the declared default.

    Raises:
        ParameterError: the value cannot be that type.
    """
    if isinstance(default, bool):
        if isinstance(value, bool):
            return value
        word = str(value).strip().lower()
        if word in _BOOLEANS:
            return _BOOLEANS[word]
        raise ParameterError(f"{name} must be True or False, not {value!r}")
    if isinstance(default, int):
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        raise ParameterError(f"{name} must be an integer, not {value!r}")
    if isinstance(default, float):
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        raise ParameterError(f"{name} must be a number, not {value!r}")
    if isinstance(default, str):
        return value if isinstance(value, str) else str(value)
    return value


def check_parameters(params: dict, notebooks: tuple[str, ...]) -> dict:
    """Check ``-p`` parameters against what the notebooks declare, before anything runs.

    Args:
        params: name -> value as parsed by :func:`parse_parameters`.
        notebooks: the notebooks of this run.

    Returns:
        The parameters, each converted to the type of its declared default.

    Raises:
        ParameterError: an undeclared name (with "did you mean"), a value of the wrong type,
            or a value out of range; the message says which and what is allowed.
    """
    import difflib

    declared = declared_parameters(notebooks)
    out = {}
    for name, value in params.items():
        if name in OPTION_PARAMETERS:
            raise ParameterError(f"set {name} with {OPTION_PARAMETERS[name]}, not -p")
        if name not in declared:
            close = difflib.get_close_matches(name.upper(), list(declared), n=1, cutoff=0.6)
            hint = f"; did you mean {close[0]}?" if close else ""
            raise ParameterError(
                f"unknown parameter {name}{hint} (the notebooks {', '.join(notebooks)} declare: "
                f"{', '.join(sorted(declared))})"
            )
        value = _coerce(name, value, _default(declared[name]))
        minimum = MINIMUMS.get(name)
        if minimum is not None and value < minimum:
            raise ParameterError(f"{name} must be at least {minimum}, not {value!r}")
        out[name] = value
    return out


def new_run_folder(root: Path) -> Path:
    """A run folder ``root/<UTC timestamp>`` no other run has (``-2``, ``-3``… when two runs
    start in the same second): created atomically, so concurrent runs never share one."""
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    root.mkdir(parents=True, exist_ok=True)
    for n in range(1, 1000):
        folder = root / (stamp if n == 1 else f"{stamp}-{n}")
        try:
            folder.mkdir()
        except FileExistsError:
            continue
        return folder
    raise RuntimeError(f"no free run folder under {root} for {stamp}")


def notebook_parameters(path: Path) -> dict:
    """The parameters a notebook declares in its ``parameters`` cell (papermill's inspection)."""
    import papermill

    return {name: info for name, info in papermill.inspect_notebook(str(path)).items()}


def _kernel_config(socket_dir: str):
    """Talk to the kernel over local IPC sockets (TCP kernels warn about plain-text transport)."""
    from traitlets.config import Config

    return Config({"KernelManager": {"transport": "ipc", "ip": os.path.join(socket_dir, "k")}})


def _execute(src: Path, dst: Path, params: dict, kernel=None) -> None:
    """Run one notebook with papermill, on ``kernel`` (a started :class:`kernels.Kernel`) or on
    a kernel of its own."""
    import papermill
    from papermill.exceptions import PapermillExecutionError

    declared = notebook_parameters(src)
    # each notebook takes the parameters it declares; the others are meant for other notebooks
    mine = {k: v for k, v in params.items() if k in declared}
    try:
        with tempfile.TemporaryDirectory(prefix="mmlab-kernel-") as sockets:
            extra = (
                {"config": _kernel_config(sockets)} if kernel is None else {"km": kernel.manager}
            )
            papermill.execute_notebook(
                str(src),
                str(dst),
                parameters=mine,
                kernel_name="python3",
                progress_bar=False,
                cwd=str(src.parent),
                log_output=False,
                **extra,
            )
    except PapermillExecutionError as exc:
        error = f"{exc.ename}: {exc.evalue}" if exc.evalue else _error_line(dst)
        raise NotebookFailed(
            f"{src.name} failed in cell {exc.exec_count}: {error}\n"
            f"(executed copy with the traceback: {dst})"
        ) from None


def _error_line(executed: Path) -> str:
    """The error of the failing cell (the SDK draws tracebacks with rich, not as error outputs)."""
    import re

    import nbformat

    try:
        cells = nbformat.read(str(executed), as_version=4).cells
        cell = next(c for c in cells if c.metadata.get("papermill", {}).get("exception"))
    except Exception:
        return "the cell raised (see the executed copy)"
    texts = []
    for out in cell.get("outputs", []):
        if out.get("output_type") == "error":
            return f"{out.get('ename')}: {out.get('evalue')}"
        texts.append(out.get("text") or out.get("data", {}).get("text/plain", ""))
    lines = [ln.strip() for ln in re.sub(r"\x1b\[[0-9;]*m", "", "".join(texts)).splitlines()]
    lines = [ln for ln in lines if ln]
    # rich wraps the final "SomeError: message" line: join it with its continuation lines
    starts = [
        i for i, ln in enumerate(lines) if re.match(r"[A-Za-z_][\w.]*(Error|Exception)\b", ln)
    ]
    if starts:
        return " ".join(lines[starts[-1] :])
    return lines[-1] if lines else "the cell raised (see the executed copy)"


def strip_run_metadata(path: Path) -> None:
    """Drop papermill's timing metadata so a re-rendered notebook diffs only where outputs changed."""
    import nbformat

    nb = nbformat.read(str(path), as_version=4)
    nb.metadata.pop("papermill", None)
    for cell in nb.cells:
        cell.metadata.pop("papermill", None)
        cell.metadata.pop("execution", None)
        if "tags" in cell.metadata and not cell.metadata["tags"]:
            cell.metadata.pop("tags")
    nb.metadata["kernelspec"] = {
        "display_name": "Python 3",
        "language": "python",
        "name": "python3",
    }
    nbformat.write(nb, str(path))


class ReportReader:
    """Just enough of a connected lab to read reports: a bucket and clients, no global state.

    Args:
        boto_session: where clients come from (an emulator-pinned session, or AWS's).
        backend: ``"moto"`` or ``"live"`` (what :func:`mmutils.lab.resolve_prefix` asks).
    """

    def __init__(self, boto_session, backend: str = "moto"):
        self.boto_session = boto_session
        self.backend = backend
        account = boto_session.client("sts").get_caller_identity()["Account"]
        self.bucket = f"sagemaker-{boto_session.region_name}-{account}"

    def client(self, name: str):
        """A boto3 client."""
        return self.boto_session.client(name)

    @classmethod
    def for_backend(cls, backend: str, region: str) -> ReportReader:
        """The reader of the running emulator (``$MMLAB_HOME``) or of the AWS account."""
        from mmutils.lab.session import boto_session

        return cls(boto_session(backend, region), backend)


#: Where the lab's schedules write reports: (monitoring type, notebook, ``LabNames`` attribute).
REPORT_FOLDERS = (
    ("DataQuality", "03_schedule", "reports_uri"),
    ("ModelQuality", "05_model_quality", "mq_reports_uri"),
    ("DataQuality", "05_model_quality", "mq_data_quality_reports_uri"),
)


def report_summaries(session, prefix: str) -> list[dict]:
    """Every monitoring report of the lab: exit message and violation counts.

    Reads the data-quality reports of notebook 03 and the model-quality and data-quality
    reports of notebook 05 (:data:`REPORT_FOLDERS`).

    Args:
        session: a connected session or a :class:`ReportReader` (anything with ``bucket`` and
            ``client``).
        prefix: the resolved ``PREFIX`` (:func:`mmutils.lab.resolve_prefix`).

    Returns:
        One ``{"report": S3 folder, "monitoring_type": "DataQuality" | "ModelQuality",
        "notebook": name, "violations": {check type: count}, "exit_message": text}`` per
        report folder, in :data:`REPORT_FOLDERS` order, then by folder (what
        ``summary.json`` lists).
    """
    lab_names = names(prefix, session.bucket)
    return [
        {
            "report": execution.report_uri,
            "monitoring_type": monitoring_type,
            "notebook": notebook,
            "violations": execution.check_counts(),
            "exit_message": _exit_message(execution),
        }
        for monitoring_type, notebook, attribute in REPORT_FOLDERS
        for execution in executions.read_reports(session, getattr(lab_names, attribute))
    ]


def _exit_message(execution: executions.Execution) -> str:
    """The job's ExitMessage, else its status (``""`` when no job wrote the report)."""
    if execution.exit_message is not None:
        return execution.exit_message
    return execution.status or ""


def run_lab(
    *,
    output: Path | None = None,
    backend: str = "moto",
    parameters: dict | None = None,
    notebooks: tuple[str, ...] = LAB_NOTEBOOKS,
    render: bool = False,
    echo=print,
) -> RunReport:
    """Run the lab notebooks in order and return a :class:`RunReport`.

    Args:
        output: the run folder (default ``runs/<UTC timestamp>``); executed notebooks and
            ``summary.md`` / ``summary.json`` go there.
        backend: ``"moto"`` (a private emulator for this run) or ``"live"`` (your AWS account).
        parameters: papermill parameters; each notebook receives those it declares.
        notebooks: which notebooks to run (names without ``.ipynb``), in order.
        render: re-render the committed notebooks in place instead (emulator, default parameters).
        echo: where progress lines go.

    Raises:
        NotebookFailed: a notebook raised; nothing after it runs.
    """
    params = check_parameters(dict(parameters or {}), notebooks)
    params["BACKEND"] = backend
    if render:
        if backend != "moto" or parameters:
            raise ValueError("--render uses the emulator and the default parameters only")
        params = {}
    if output:
        output = Path(output)
        output.mkdir(parents=True, exist_ok=True)
    else:
        output = new_run_folder(REPO_ROOT / "runs")
    report = RunReport(output=output, backend=backend)
    started = time.monotonic()
    saved_env = dict(os.environ)
    emulator_home = None
    ahead = KernelsAhead(NOTEBOOKS, len(notebooks))
    try:
        # progress as one final line per run, no intermediate frames (mmutils.lab.traffic)
        os.environ.setdefault("MMLAB_PROGRESS", "text")
        if backend == "moto":
            emulator_home = output / ".emulator"
            os.environ["MMLAB_HOME"] = str(emulator_home)
        # the first notebook's kernel imports the SDK while the emulator starts
        ahead.prestart()
        if backend == "moto":
            from mmutils.emulator import lifecycle

            echo(f"[mmlab run] starting a private emulator (state in {emulator_home})")
            # it stops when this process ends, however; a private run never sees old state
            info = lifecycle.start(tied=True, fresh=True)
            echo(f"[mmlab run] emulator at {info.endpoint_url}")
        total = len(notebooks)
        for i, name in enumerate(notebooks, 1):
            src = NOTEBOOKS / f"{name}.ipynb"
            dst = src if render else output / f"{name}.ipynb"
            echo(f"[mmlab run] [{i}/{total}] {name} …")
            t0 = time.monotonic()
            kernel = ahead.take()
            ahead.prestart()  # the next notebook's kernel starts while this one runs
            _execute(src, dst, params, kernel)
            if render:
                strip_run_metadata(dst)
            seconds = time.monotonic() - t0
            report.notebooks.append({"name": name, "seconds": seconds, "output": str(dst)})
            echo(f"[mmlab run] [{i}/{total}] {name} done in {seconds:.1f} s")
        reader = ReportReader.for_backend(backend, params.get("REGION", "us-east-1"))
        report.prefix = resolve_prefix(params.get("PREFIX", ""), reader)
        report.executions = report_summaries(reader, report.prefix)
    finally:
        ahead.close()
        if emulator_home is not None:
            from mmutils.emulator import lifecycle

            lifecycle.stop()
        os.environ.clear()
        os.environ.update(saved_env)
        report.seconds = time.monotonic() - started
    (output / "summary.md").write_text(report.to_markdown())
    (output / "summary.json").write_text(
        json.dumps(
            {
                "backend": report.backend,
                "prefix": report.prefix,
                "seconds": round(report.seconds, 1),
                "notebooks": report.notebooks,
                "executions": report.executions,
            },
            indent=2,
        )
    )
    return report


def _terminate_as_interrupt(signum, frame):  # noqa: ARG001 - signal handler signature
    """SIGTERM ends ``mmlab run`` like Ctrl-C: its ``finally`` blocks stop the emulator."""
    raise KeyboardInterrupt


def _cmd_run(args: argparse.Namespace) -> int:
    import signal

    previous = signal.signal(signal.SIGTERM, _terminate_as_interrupt)
    try:
        report = run_lab(
            output=args.output,
            backend=args.backend,
            parameters=parse_parameters(args.parameter),
            notebooks=tuple(args.notebooks or LAB_NOTEBOOKS),
            render=args.render,
        )
    except ParameterError as exc:
        print(f"[mmlab run] {exc}", file=sys.stderr)
        return 2
    except NotebookFailed as exc:
        print(f"[mmlab run] FAILED: {exc}", file=sys.stderr)
        return 1
    finally:
        signal.signal(signal.SIGTERM, previous)
    print()
    print(report.to_markdown())
    print(f"[mmlab run] executed notebooks and summary in {report.output}")
    return 0


def register(subparsers) -> None:
    """Add ``mmlab run`` to the CLI."""
    p = subparsers.add_parser(
        "run",
        help="run the lab notebooks headless (papermill) against the emulator or AWS",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--output", type=Path, help="run folder (default runs/<UTC timestamp>)")
    p.add_argument("--backend", choices=("moto", "live"), default="moto")
    p.add_argument(
        "-p",
        "--parameter",
        nargs=2,
        action="append",
        metavar=("NAME", "VALUE"),
        help="notebook parameter, e.g. -p N_REQUESTS 100 -p INJECT_DRIFT False",
    )
    p.add_argument("--notebooks", nargs="+", choices=LAB_NOTEBOOKS, help="run only these")
    p.add_argument(
        "--render",
        action="store_true",
        help="re-render the committed notebooks in place (emulator, default parameters)",
    )
    p.set_defaults(func=_cmd_run)
