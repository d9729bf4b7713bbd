"""``mmlab data``: (re)build the lab's dataset and model in one command.

mmlab data generate [--out DIR] [--seed N | --from-lab-folder PATH] [--no-model]
mmlab data train [--data DIR] [--out DIR/model.tar.gz]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from mmutils.paths import TEST_DATA


def register(subparsers) -> None:
    """Add the ``data`` command (with ``generate`` and ``train``) to the ``mmlab`` parser."""
    data = subparsers.add_parser(
        "data",
        help="generate the lab's churn dataset and train its model",
        description="The lab's churn dataset (generated, deterministic) and XGBoost model.",
    )
    sub = data.add_subparsers(dest="data_command", metavar="ACTION")
    data.set_defaults(func=lambda _args: data.print_help() or 2)

    gen = sub.add_parser(
        "generate",
        help="write the dataset files and model.tar.gz",
        description="Write the lab's dataset files (and model.tar.gz) into a folder. With "
        "--from-lab-folder, use the original lab's CSV files instead of generating them.",
    )
    gen.add_argument("--out", type=Path, default=TEST_DATA, help="output folder (test_data/)")
    source = gen.add_mutually_exclusive_group()
    source.add_argument("--seed", type=int, default=None, help="generator seed (default: fixed)")
    source.add_argument(
        "--from-lab-folder",
        type=Path,
        metavar="PATH",
        help="folder holding the original lab CSV files (validated, copied, used for training)",
    )
    gen.add_argument("--no-model", action="store_true", help="do not train model.tar.gz")
    gen.set_defaults(func=_generate)

    train = sub.add_parser(
        "train",
        help="train the XGBoost model and write model.tar.gz",
        description="Train on training-dataset-with-header.csv, write model.tar.gz and print "
        "the AUC on test-dataset.csv.",
    )
    train.add_argument("--data", type=Path, default=TEST_DATA, help="dataset folder (test_data/)")
    train.add_argument("--out", type=Path, default=None, help="model path (DATA/model.tar.gz)")
    train.set_defaults(func=_train)


def _show(path: Path) -> str:
    """A path relative to the working folder when it is inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _report(path: Path) -> None:
    data = path.read_bytes()
    rows = data.count(b"\n") if path.suffix == ".csv" else None
    extra = f", {rows} lines" if rows is not None else ""
    print(f"wrote {_show(path)} ({len(data)} bytes{extra})")


def _copy_lab_folder(source: Path, out: Path) -> list[Path]:
    """Validate the original lab files, copy them to ``out``; derive the optional ones."""
    import shutil

    from mmutils.data import files, schema

    counts = files.validate_folder(source)
    for name, (_header, _label, expected) in schema.FILES.items():
        if name in counts and counts[name] != expected:
            print(
                f"note: {name} has {counts[name]} rows (the lab's has {expected})", file=sys.stderr
            )
    out.mkdir(parents=True, exist_ok=True)
    written = []
    same = source.resolve() == out.resolve()
    for name in schema.FILES:
        src, dst = source / name, out / name
        if name == "test_sample.csv" and not src.exists():
            traffic = (out if same else source) / "test-dataset-input-cols.csv"
            head = traffic.read_bytes().splitlines(keepends=True)[: schema.SAMPLE_ROWS]
            dst.write_bytes(b"".join(head))
        elif not same:
            shutil.copyfile(src, dst)
        written.append(dst)
    upload_src, upload_dst = source / schema.UPLOAD_TEST_FILE, out / schema.UPLOAD_TEST_FILE
    if not same or not upload_dst.exists():
        if upload_src.exists():
            shutil.copyfile(upload_src, upload_dst)
        else:
            upload_dst.write_bytes(schema.UPLOAD_TEST_CONTENT)
    written.append(upload_dst)
    return written


def _build_model(data: Path, out: Path) -> float:
    """Train on ``data``, write ``out`` and return the AUC on the test split."""
    from mmutils import model

    booster = model.train(data / "training-dataset-with-header.csv")
    model.package(booster, out)
    _report(out)
    score = model.evaluate_auc(booster, data / "test-dataset.csv")
    print(f"AUC on {_show(data / 'test-dataset.csv')}: {score:.4f}")
    return score


def _generate(args: argparse.Namespace) -> int:
    from mmutils.data import generate, schema
    from mmutils.data.files import DatasetError
    from mmutils.model import ModelError

    try:
        if args.from_lab_folder is not None:
            written = _copy_lab_folder(args.from_lab_folder, args.out)
            if args.out.resolve() == TEST_DATA.resolve():
                print(
                    "note: test_data/ now holds the lab's own files; "
                    "`mmlab data generate` brings back the generated ones",
                    file=sys.stderr,
                )
        else:
            seed = generate.DEFAULT_SEED if args.seed is None else args.seed
            written = generate.write(generate.generate(seed), args.out)
            print(f"generated the churn dataset with seed {seed}")
        for path in written:
            _report(path)
        if not args.no_model:
            _build_model(args.out, args.out / schema.MODEL_FILE)
    except (DatasetError, ModelError, OSError) as exc:
        print(f"mmlab data generate: error: {exc}", file=sys.stderr)
        return 1
    return 0


def _train(args: argparse.Namespace) -> int:
    from mmutils.data import files, schema
    from mmutils.model import ModelError

    out = args.out or args.data / schema.MODEL_FILE
    try:
        for name in ("training-dataset-with-header.csv", "test-dataset.csv"):
            has_header, _label, _rows = schema.FILES[name]
            files.read_cells(args.data / name, len(schema.COLUMNS), header=has_header)
        _build_model(args.data, out)
    except (files.DatasetError, ModelError, OSError) as exc:
        print(f"mmlab data train: error: {exc}", file=sys.stderr)
        return 1
    return 0
