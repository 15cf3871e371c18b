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
    inputs: List[str] = typer.Argument(..., help="JSONL files, .txt files, RSS/Atom feeds (.xml, .rss, .atom), HTML pages "
                                       "(.html, .htm), any of them .gz, directories of them, or - for JSONL on stdin."),
    out: Path = typer.Option(..., "--out", "-o", help="Records, one JSON object per line."),
    rejects: Optional[Path] = typer.Option(None, "--rejects", help="Rejected inputs with reasons [default: beside OUT]."),
    sink: List[str] = typer.Option([], "--sink", help="Another sink (repeatable): sqlite:///PATH, postgresql://USER@HOST/DB, "
                                   "stix:PATH or jsonl:PATH."),
    config: Optional[Path] = typer.Option(None, "--config", help="Pipeline config [default: configs/pipeline.toml]."),
    summary_json: Optional[Path] = typer.Option(None, "--summary-json", help="Also write the summary as JSON."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress display."),
    workers: int = typer.Option(1, "--workers", "-j", help="Worker processes, each loading the pipeline once "
                                "(with --engine dask and no --scheduler: workers of the local cluster)."),
    engine: str = typer.Option("local", "--engine", help="local (this machine) or dask (a Dask distributed cluster)."),
    scheduler: Optional[str] = typer.Option(None, "--scheduler", help="Dask scheduler address, tcp://HOST:8786 "
                                            "[default: a LocalCluster of --workers processes]."),
    resume: bool = typer.Option(True, "--resume/--no-resume", help="Continue an interrupted run of the same command "
                                "from its checkpoint (OUT.state) [default: resume]."),
    checkpoint_every: float = typer.Option(2.0, "--checkpoint-every", help="Seconds between checkpoints."),
    log_every: float = typer.Option(10.0, "--log-every", help="Seconds between progress lines when stderr is not a terminal."),
) -> None:
    """Analyse articles and write one record per article, in input order.

    Streams the input (memory stays flat), runs on --workers processes or a Dask cluster with the
    same records in the same order, and resumes an interrupted run: re-run the same command."""
    from .runner import RunOptions, UsageError, run_command

    options = RunOptions(inputs=list(inputs), out=out, rejects=rejects, sinks=tuple(sink), config=config,
                         summary_json=summary_json, quiet=quiet, workers=workers, engine=engine, scheduler=scheduler,
                         resume=resume, checkpoint_every=checkpoint_every, log_every=log_every)
    try:
        code = run_command(options, console)
    except UsageError as error:
        raise typer.BadParameter(str(error), param_hint=error.param_hint)
    raise typer.Exit(code)


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    port: int = typer.Option(8080, "--port", help="Port to listen on."),
    config: Optional[Path] = typer.Option(None, "--config", help="Pipeline config [default: configs/pipeline.toml]; "
                                                                 "its [service] table sets the limits."),
    workers: int = typer.Option(1, "--workers", min=1, help="Worker processes (each loads the models once)."),
    log_level: str = typer.Option("info", "--log-level", help="uvicorn log level."),
) -> None:
    """Serve the analysis over HTTP: POST /v1/analyze, POST /v1/analyze:batch, GET /v1/schema,
    GET /healthz; OpenAPI docs at /docs."""
    import os

    import uvicorn

    if workers > 1:
        from .service import CONFIG_ENV

        if config:
            os.environ[CONFIG_ENV] = str(config.resolve())
        uvicorn.run("pipeline.service:app_from_env", factory=True, host=host, port=port, workers=workers,
                    log_level=log_level)
    else:
        from .service import create_app

        uvicorn.run(create_app(config=config), host=host, port=port, log_level=log_level)


export_app = typer.Typer(help="Export records to other formats.", no_args_is_help=True)
app.add_typer(export_app, name="export")


@export_app.command("stix")
def export_stix(
    records: List[Path] = typer.Argument(..., help="Record files (JSONL, as `vnsec run` writes them), or - for stdin."),
    out: Path = typer.Option(..., "--out", "-o", help="The STIX 2.1 bundle (JSON); - for stdout."),
) -> None:
    """Write the security articles among RECORDS as one STIX 2.1 bundle: a report per article,
    identities, threat actors and malware; deterministic ids, so re-exports never duplicate."""
    from .stix import StixExporter, add_records

    exporter = StixExporter()
    problems: list[str] = []
    for path in records:
        try:
            if str(path) == "-":
                problems += [f"-: {p}" for p in add_records(exporter, sys.stdin)]
            else:
                with path.open(encoding="utf-8") as handle:
                    problems += [f"{path}: {p}" for p in add_records(exporter, handle)]
        except (OSError, UnicodeDecodeError) as error:
            raise typer.BadParameter(f"cannot read {path}: {error}", param_hint="RECORDS")
    text = exporter.bundle_json()
    if str(out) == "-":
        sys.stdout.write(text)
    else:
        from .emit import _AtomicLines

        lines = _AtomicLines(out)
        lines.write_line(text.rstrip("\n"))
        lines.close()
    for problem in problems[:20]:
        console.print(problem, markup=False, soft_wrap=True)
    if len(problems) > 20:
        console.print(f"... and {len(problems) - 20} more lines that are not records")
    console.print(f"{exporter.records} records, {exporter.reports} reports, {len(exporter.objects())} objects"
                  + ("" if str(out) == "-" else f" -> {out}"))
    raise typer.Exit(1 if problems else 0)


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
    console.print_json(json.dumps({name: scores["summary"] if "summary" in scores else scores
                                   for name, scores in card["metrics"].items()}, ensure_ascii=False))


@app.command("train-ner")
def train_ner(
    config: Path = typer.Option(Path("configs/ner.toml"), "--config", help="Entity CRF training config."),
    output: Optional[Path] = typer.Option(None, "--output", help="Model folder [default: from the config]."),
) -> None:
    """Train the entity CRF on our corpus and write it with its model card."""
    from .language import PROJECT_ROOT
    from .ner_model import train as train_crf

    card = train_crf(config, PROJECT_ROOT, output=output)
    console.print_json(json.dumps(card["metrics"]))


@app.command()
def show(
    article: Path = typer.Argument(..., help="A .txt file with one article, or a JSONL file (see --id)."),
    article_id: Optional[str] = typer.Option(None, "--id", help="Which article of a JSONL file [default: the first]."),
    html: Path = typer.Option(Path("out/show.html"), "--html", help="Where to write the highlighted page."),
) -> None:
    """Highlight organisations, people and percentages of one article (HTML with displaCy) and
    print a summary."""
    from .show import render_html, summary_table
    from . import analyze as analyze_text

    if article.suffix.lower() in (".jsonl", ".json"):
        rows = [json.loads(line) for line in article.read_text(encoding="utf-8").splitlines() if line.strip()]
        row = next((r for r in rows if article_id is None or str(r.get("id")) == article_id), None)
        if row is None:
            raise typer.BadParameter(f"no article with id {article_id!r} in {article}", param_hint="--id")
    else:
        row = {"text": article.read_text(encoding="utf-8")}
    record = analyze_text(row["text"], **{k: v for k, v in row.items() if k != "text"})
    html.parent.mkdir(parents=True, exist_ok=True)
    html.write_text(render_html(record), encoding="utf-8")
    Console().print(summary_table(record))
    console.print(f"highlighted page written to {html}")


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
