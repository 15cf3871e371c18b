"""The ``vnsec`` command: one verb per job.

Exit status: 0 when every article became a record, 1 when some were rejected (or a target was
missed), 2 on a usage error.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import List, Optional

import typer
from rich.console import Console

app = typer.Typer(
    name="vnsec",
    help="Vietnamese security-news analysis: records with tokens, percentages, organisations, "
    "people and threat categories.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console(stderr=True)


@app.command()
def run(
    inputs: List[str] = typer.Argument(..., help="JSONL files, .txt files, directories of them, or - for JSONL on stdin."),
    out: Path = typer.Option(..., "--out", "-o", help="Records, one JSON object per line."),
    rejects: Optional[Path] = typer.Option(None, "--rejects", help="Rejected inputs with reasons [default: beside OUT]."),
    sink: List[str] = typer.Option([], "--sink", help="Another sink: sqlite:///PATH or jsonl:PATH (repeatable)."),
    config: Optional[Path] = typer.Option(None, "--config", help="Pipeline config [default: configs/pipeline.toml]."),
    summary_json: Optional[Path] = typer.Option(None, "--summary-json", help="Also write the summary as JSON."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress display."),
) -> None:
    """Analyse articles and write one record per article."""
    from .batch import default_rejects_path, run as run_batch
    from .emit import RejectsFile, open_sink
    from .ingest import read
    from .language import Pipeline

    try:
        sinks = [open_sink(str(out))] + [open_sink(url) for url in sink]
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint="--sink")
    nlp = Pipeline.from_config(config)
    rejects_path = rejects or default_rejects_path(out)
    items = read(inputs, max_chars=nlp.max_chars)
    progress_cb = None
    if not quiet and console.is_terminal:
        from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        progress = Progress(SpinnerColumn(), TextColumn("{task.completed} articles"),
                            TextColumn("{task.fields[rate]:.1f}/s"), TextColumn("rejected {task.fields[rejected]}"),
                            TimeElapsedColumn(), console=console, transient=True)
        task = progress.add_task("run", total=None, rate=0.0, rejected=0)
        progress.start()
        progress_cb = lambda s: progress.update(task, completed=s.articles, rate=s.per_second, rejected=s.rejected)  # noqa: E731
    try:
        summary = run_batch(items, nlp, sinks, RejectsFile(rejects_path), on_item=progress_cb)
    finally:
        if progress_cb is not None:
            progress.stop()
    result = summary.as_dict() | {"out": str(out), "rejects": str(rejects_path), "sinks": [s.url for s in sinks]}
    console.print(
        f"articles {summary.articles}  records {summary.records}  rejected {summary.rejected}  "
        f"time {summary.seconds:.1f}s  {summary.per_second:.1f} articles/s"
    )
    if summary.rejected:
        console.print(f"rejects written to {rejects_path}: " + ", ".join(f"{k} {v}" for k, v in summary.reasons.items()))
    if summary_json:
        summary_json.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    raise typer.Exit(1 if summary.rejected else 0)


@app.command()
def schema() -> None:
    """Print the JSON Schema of a record."""
    from .schema import json_schema_text

    sys.stdout.write(json_schema_text())


@app.command()
def analyze(
    file: Path = typer.Argument(..., help="A text file with one article ('-' for stdin)."),
) -> None:
    """Analyse one article and print its record as indented JSON."""
    from . import analyze as analyze_text

    text = sys.stdin.read() if str(file) == "-" else file.read_text(encoding="utf-8")
    record = analyze_text(text)
    sys.stdout.write(record.model_dump_json(indent=2) + "\n")


@app.command()
def train(
    config: Path = typer.Option(Path("configs/train.toml"), "--config", help="Training config."),
    output: Optional[Path] = typer.Option(None, "--output", help="Model folder [default: from the config]."),
) -> None:
    """Train the threat classifier on our corpus and write it with its model card."""
    from .train import train_from_config

    card = train_from_config(config, output=output, console=console)
    console.print_json(json.dumps({"test": card["metrics"]["test"]["summary"], "dev": card["metrics"]["dev"]["summary"]}))


@app.command()
def evaluate(
    data: Path = typer.Option(..., "--data", help="JSONL with gold annotations (our corpus format or ../shared/eval/dev.jsonl)."),
    json_out: Optional[Path] = typer.Option(None, "--json", help="Write all scores as JSON here."),
    records_out: Optional[Path] = typer.Option(None, "--records", help="Also write the records made."),
    entities_baseline: bool = typer.Option(False, "--underthesea-ner", help="Also score underthesea.ner on the same articles."),
) -> None:
    """Score the pipeline (threat categories, entities, percentages) against gold annotations,
    side by side with the keyword baseline (and underthesea.ner)."""
    from .evaluate import evaluate_file, render

    report = evaluate_file(data, records_out=records_out, underthesea_ner=entities_baseline)
    render(report, console=Console())
    if json_out:
        json_out.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


corpus_app = typer.Typer(help="Build and inspect the annotated corpus.", no_args_is_help=True)
app.add_typer(corpus_app, name="corpus")


@corpus_app.command("build")
def corpus_build(
    parts: Path = typer.Option(Path("corpora/parts"), help="Folder of annotated part files."),
    out: Path = typer.Option(Path("corpora/vnsec-news"), help="Folder for train/dev/test JSONL."),
) -> None:
    """Locate every annotation's offsets, check the corpus and write the fixed splits."""
    from .corpus import build

    stats = build(parts, out)
    console.print_json(json.dumps(stats, ensure_ascii=False))


def main() -> None:  # pragma: no cover
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
