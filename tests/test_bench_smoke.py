"""The benchmarks cannot rot: `bench/run_all.py --quick` runs every one of them at tiny sizes and
writes a document with the machine, the figures table and a section per benchmark, each with a
number in it. Nothing here is timed: the figures of a tiny run say nothing about speed."""
import re
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent / "bench"
NUMBER = r"\d[\d,]*(\.\d+)?"


def test_run_all_quick_writes_every_section(tmp_path):
    out = tmp_path / "benchmarks.md"
    proc = subprocess.run([sys.executable, str(BENCH / "run_all.py"), "--quick", "--output", str(out)],
                          capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    text = out.read_text()
    sys.path.insert(0, str(BENCH))
    try:
        import run_all
    finally:
        sys.path.remove(str(BENCH))
    for heading in ["# Benchmarks", "## Machine", "## Figures", "## Running them"]:
        assert f"\n{heading}\n" in f"\n{text}", heading
    for name in ["CPU", "cores", "RAM", "Python", "SQLite", "PostgreSQL", "date"]:
        assert re.search(rf"^\| {name} \| \S", text, re.M), name
    table = text.split("## Figures", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in table.splitlines() if line.startswith("| ") and not line.startswith("| benchmark")]
    assert len(rows) == len(run_all.BENCHES)
    for row in rows:  # floor, hub and ratio are numbers; the verdict is one of three
        cells = [c.strip() for c in row.strip("|").split("|")]
        assert all(re.match(NUMBER, cell) for cell in cells[1:4]), row
        assert cells[5] in ("met", "**missed**", "no goal"), row
    for key, (script, _) in run_all.BENCHES.items():
        assert f"`bench/{script}`" in text, key
    sections = text.split("\n## ")[3:-1]  # after Machine and Figures, before Running them
    assert len(sections) == len(run_all.BENCHES)
    for section in sections:
        assert re.search(rf"\| ratio \| \*\*{NUMBER}\*\* \|", section), section[:200]
    assert "--quick" in text and "smoke run" in text  # a tiny run says so
    assert out.read_text().count("Traceback") == 0 and "Traceback" not in proc.stderr
