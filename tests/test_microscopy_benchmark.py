"""The microscopy benchmark runs (tiny settings) and prints its table; no timing or quality assertions."""

from __future__ import annotations

from test_benchmarks import run_script, table_rows


def test_microscopy_table(tmp_path):
    out = tmp_path / "microscopy.md"
    text = run_script("microscopy.py", "--shape", "3,32,32", "--iterations", "2", "--warm-iterations", "1",
                      "--out", str(out))
    rows = table_rows(text)
    assert rows[0] == ["method", "PSNR (dB) (10 photons)", "s (10 photons)", "PSNR (dB) (50 photons)",
                       "s (50 photons)"]
    methods = [r[0] for r in rows[2:]]
    assert methods[:2] == ["noisy input", "non-local means per slice (skimage)"]
    assert methods[2:] == [f"DIP fast, {m}, {t}" for t in ("gaussian", "poisson") for m in ("slices", "warm slices", "3D")]
    assert all(len(r) == 5 for r in rows)
    noisy = [float(v) for v in rows[2][1::2]]
    assert noisy[1] > noisy[0]  # more photons, less noise
    assert all(float(r[1]) > 0 for r in rows[3:6])
    assert out.read_text().startswith("## Microscopy") and "Machine:" in out.read_text()
