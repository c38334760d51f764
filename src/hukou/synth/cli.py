"""``hukou synth``: generate the synthetic city the demo and every benchmark run on."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from hukou.clikit import console
from hukou.synth.config import CityConfig, DefectRates

__all__ = ["synth_app"]

synth_app = typer.Typer(
    help="The synthetic city (合成城市): people, department feeds, truth.", no_args_is_help=True
)


@synth_app.command("city")
def city(
    population: Annotated[int, typer.Option(min=100, help="number of people")] = 20_000,
    seed: Annotated[int, typer.Option(help="random seed: same seed, same bytes")] = 20251231,
    out: Annotated[Path, typer.Option(help="output folder (replaced)")] = Path("var/city"),
    defect_scale: Annotated[
        float, typer.Option(min=0.0, help="multiply every defect rate (0 = clean feeds)")
    ] = 1.0,
) -> None:
    """Generate a city of POPULATION people with seven department feeds and the ground truth."""
    from hukou.synth.city import generate_city  # noqa: PLC0415  (NumPy/Polars only when used)

    cfg = CityConfig(population=population, seed=seed, defects=DefectRates(scale=defect_scale))
    with Progress(
        SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=console
    ) as progress:
        task = progress.add_task("starting", total=None)
        report = generate_city(
            cfg, out, progress=lambda stage: progress.update(task, description=stage)
        )
    total = sum(report.records.values())
    console.print(
        f"city of {report.persons:,} people in {report.households:,} households written to {out}"
    )
    for department, rows in report.records.items():
        console.print(f"  {department:<20} {rows:>10,} records")
    console.print(f"  {'all feeds':<20} {total:>10,} records; {sum(report.seconds.values()):.1f} s")
