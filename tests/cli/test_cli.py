"""The ``napari-dip`` command line: every task, batches, dtypes, settings files and bad input."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
import skimage.io
import tifffile

from napari_dip.cli import main

#: Options that keep every fit tiny.
FAST = ["--preset", "fast", "--iterations", "3", "--device", "cpu", "-q"]


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_denoise_png_keeps_shape_and_dtype(files, tmp_path, capsys):
    out = tmp_path / "clean.png"
    code, stdout, _ = run(capsys, "denoise", files["rgb"], "-o", out, *FAST)
    assert code == 0
    result = skimage.io.imread(out)
    assert result.dtype == np.uint8 and result.shape == (24, 32, 3)
    assert stdout == ""  # -q


@pytest.mark.parametrize(
    ("task", "extra", "name", "shape"),
    [
        ("jpeg", [], "photo_dejpeg.png", (24, 32, 3)),  # JPEG in, PNG out by default
        ("sr", ["--factor", "2"], "photo_sr2.png", (48, 64, 3)),
        ("inpaint", ["--mask", "mask"], "photo_inpainted.png", (24, 32, 3)),
        ("enhance", [], "photo_enhanced.png", (24, 32, 3)),
        ("flash", ["--flash", "flash"], "photo_restored.png", (24, 32, 3)),
    ],
)
def test_every_task(files, tmp_path, capsys, task, extra, name, shape):
    extra = [files.get(e, e) for e in extra]
    code, _, err = run(capsys, task, files["jpg"], "-o", tmp_path / "out", *extra, *FAST)
    assert code == 0, err
    result = skimage.io.imread(tmp_path / "out" / name)
    assert result.shape == shape and result.dtype == np.uint8
    if task == "enhance":
        assert (tmp_path / "out" / "photo_enhanced_coarse.png").exists()


def test_batch_of_folder_and_glob(files, tmp_path, capsys):
    folder = tmp_path / "in"
    folder.mkdir()
    for k in range(2):
        skimage.io.imsave(folder / f"img{k}.png", skimage.io.imread(files["rgb"]), check_contrast=False)
    code, stdout, err = run(capsys, "denoise", folder, str(tmp_path / "gr*.tif"), "-o", tmp_path / "out",
                            "--preset", "fast", "--iterations", "2", "--device", "cpu")
    assert code == 0, err
    names = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert names == ["grey16_denoised.tif", "img0_denoised.png", "img1_denoised.png"]
    assert stdout.count("napari-dip: wrote") == 3


def test_uint16_float_and_stack_tiffs_keep_dtype(files, tmp_path, capsys):
    out = tmp_path / "out"
    code, _, err = run(capsys, "denoise", files["grey16"], files["stack"], files["float"], files["rgb16"],
                       "-o", out, *FAST)
    assert code == 0, err
    grey = tifffile.imread(out / "grey16_denoised.tif")
    assert grey.dtype == np.uint16 and grey.shape == (20, 28) and grey.max() > 255
    stack = tifffile.imread(out / "stack_denoised.tif")
    assert stack.dtype == np.uint16 and stack.shape == (2, 20, 24)
    assert tifffile.imread(out / "float_denoised.tif").dtype == np.float32
    rgb16 = tifffile.imread(out / "rgb16_denoised.tif")
    assert rgb16.dtype == np.uint16 and rgb16.shape == (24, 32, 3)


def test_sr_of_a_stack_is_slice_by_slice(files, tmp_path, capsys):
    code, _, err = run(capsys, "sr", files["stack"], "--factor", "2", "-o", tmp_path / "big.tif", *FAST)
    assert code == 0, err
    assert tifffile.imread(tmp_path / "big.tif").shape == (2, 40, 48)


def test_never_overwrites_without_flag(files, tmp_path, capsys):
    out = tmp_path / "clean.png"
    assert run(capsys, "denoise", files["rgb"], "-o", out, *FAST)[0] == 0
    before = out.stat().st_mtime_ns
    code, _, err = run(capsys, "denoise", files["rgb"], "-o", out, *FAST)
    assert code == 0 and err == ""  # the input is skipped: its output exists
    assert out.stat().st_mtime_ns == before
    assert run(capsys, "denoise", files["rgb"], "-o", out, "--overwrite", *FAST)[0] == 0


def test_save_every_writes_snapshots(files, tmp_path, capsys):
    code, _, err = run(capsys, "denoise", files["rgb"], "-o", tmp_path, "--save-every", "2", "--preset", "fast",
                       "--iterations", "4", "-q")
    assert code == 0, err
    assert sorted(p.name for p in tmp_path.glob("rgb_denoised_it*.png")) == [
        "rgb_denoised_it00002.png", "rgb_denoised_it00004.png"]
    code, _, err = run(capsys, "denoise", files["rgb"], "-o", tmp_path / "x.png", "--save-every", "2", *FAST)
    assert code == 0  # another output name: the old snapshots are not in the way


def test_config_file_and_flags_override_it(files, tmp_path, capsys):
    from napari_dip.core.tasks.prepare import prepare_denoise

    settings = prepare_denoise(np.zeros((16, 16)), preset="fast", iterations=2, device="cpu").settings
    config = tmp_path / "settings.json"
    config.write_text(json.dumps({"napari_dip": settings}))  # as stored in layer metadata
    code, stdout, err = run(capsys, "denoise", files["rgb"], "-o", tmp_path / "a.png", "--config", config)
    assert code == 0, err
    assert "2 iterations" in stdout
    code, stdout, _ = run(capsys, "denoise", files["rgb"], "-o", tmp_path / "b.png", "--config", config,
                          "--iterations", "3")
    assert "3 iterations" in stdout
    settings["device"] = "cuda:7"  # made on another machine
    config.write_text(json.dumps(settings))
    code, _, err = run(capsys, "denoise", files["rgb"], "-o", tmp_path / "c.png", "--config", config, "-q")
    assert code == 0 and "not available here: using --device auto" in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["denoise", "missing.png"], "missing.png: no such file or folder"),
        (["denoise", "{garbage}"], "cannot read the image"),
        (["denoise", "{notes}"], "unsupported file type '.txt'"),
        (["inpaint", "{rgb}", "--mask", "{small}"], "pass a mask of the image's size"),
        (["flash", "{rgb}", "--flash", "{grey16}"], "pass a flash image of the image's size"),
        (["denoise", "{rgb16}", "-o", "{tmp}/x.png"], "PNG cannot hold colour uint16 pixels"),
        (["denoise", "{grey16}", "-o", "{tmp}/x.jpg"], "JPEG cannot hold uint16 pixels"),
        (["denoise", "{rgb}", "{jpg}", "-o", "{tmp}/x.png"], "several inputs need an output folder"),
        (["denoise", "{rgb}", "--config", "{garbage}"], "cannot read its settings"),
        (["denoise", "{rgb}", "--config", "{notes}"], "not valid JSON"),
        (["denoise", "{rgb}", "--save-every", "0"], "--save-every 0"),
        (["sr", "{rgb}", "--factor", "1"], "factor=1"),
        (["denoise", "{rgb}", "{jpg}", "--lr", "-1"], "the learning rate must be positive"),
        (["denoise", "{rgb}", "--runs", "0"], "--runs 0"),
    ],
)
def test_bad_input_gets_one_line_and_exit_code(files, tmp_path, capsys, argv, message):
    (tmp_path / "garbage.png").write_bytes(b"not an image")
    (tmp_path / "notes.txt").write_text("hello")
    small = np.zeros((10, 12), np.uint8)
    small[4, :] = 1
    skimage.io.imsave(tmp_path / "small.png", small, check_contrast=False)
    names = {**{k: str(v) for k, v in files.items()}, "garbage": str(tmp_path / "garbage.png"),
             "notes": str(tmp_path / "notes.txt"), "small": str(tmp_path / "small.png"), "tmp": str(tmp_path)}
    argv = [a.format(**names) for a in argv]
    code, _, err = run(capsys, argv[0], *FAST, *argv[1:])
    assert code == 1
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("napari-dip: error: ") and message in lines[0], err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["denoise", "--device", "tpu"], "argument --device: 'tpu': choose auto, cpu, cuda (or cuda:N) or mps"),
        (["inpaint", "--mask", "m.png", "--preset", "turbo"], "argument --preset: invalid choice: 'turbo'"),
        (["sr", "--holdout", "0.1"], "unrecognized arguments: --holdout 0.1"),
        (["sr", "--stack", "3d"], "argument --stack: invalid choice: '3d' (choose from 'warm', 'slices')"),
        (["flash", "--flash", "f.png", "--stack", "3d"], "argument --stack: invalid choice: '3d'"),
        (["jpeg", "--noise", "poisson"], "unrecognized arguments: --noise poisson"),
    ],
)
def test_flags_a_task_does_not_take_are_refused_by_the_parser(capsys, argv, message):
    with pytest.raises(SystemExit) as exit_info:
        main([argv[0], "in.png", *argv[1:]])
    err = capsys.readouterr().err
    assert exit_info.value.code == 2 and message in err, err
    assert "usage: napari-dip" in err


def test_debug_shows_the_exception(files, capsys):
    with pytest.raises(ValueError, match="no such file"):
        main(["denoise", "missing.png", "--debug"])


def test_batch_continues_past_a_bad_file(files, tmp_path, capsys):
    (tmp_path / "broken.png").write_bytes(b"not an image")
    code, stdout, err = run(capsys, "denoise", files["rgb"], tmp_path / "broken.png", "-o", tmp_path / "out",
                            "--preset", "fast", "--iterations", "2")
    assert code == 1
    assert "broken.png: cannot read the image" in err and "1 of 2 inputs failed" in err
    assert (tmp_path / "out" / "rgb_denoised.png").exists()


def test_mask_convention_hint(files, tmp_path, capsys):
    known = tmp_path / "known.png"
    skimage.io.imsave(known, 255 - skimage.io.imread(files["mask"]), check_contrast=False)
    code, _, err = run(capsys, "inpaint", files["rgb"], "--mask", known, "-o", tmp_path / "a.png", *FAST)
    assert code == 0 and "add --known-mask" in err
    code, _, err = run(capsys, "inpaint", files["rgb"], "--mask", known, "--known-mask", "-o", tmp_path / "b.png",
                       *FAST)
    assert code == 0 and "warning" not in err


def test_usage_errors_exit_2(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["inpaint", "x.png"])  # --mask is required
    assert exit_info.value.code == 2
    assert "--mask" in capsys.readouterr().err


def test_console_script_is_installed():
    result = subprocess.run([sys.executable, "-m", "napari_dip.cli", "--version"], capture_output=True, text=True)
    assert result.returncode == 0 and result.stdout.startswith("napari-dip ")


def test_auto_stop_follows_the_preset_unless_a_flag_says_otherwise():
    from napari_dip.cli import build_parser, engine_options

    def options(*argv: str) -> dict:
        return engine_options(build_parser().parse_args(["denoise", "in.png", *argv]))

    assert "auto_stop" not in options()  # the preset decides: on for fast denoising
    assert options("--auto-stop")["auto_stop"] is True
    assert options("--no-auto-stop")["auto_stop"] is False


def test_tv_weight_and_precision_flags_reach_the_fit(files, tmp_path, capsys, monkeypatch):
    from napari_dip.core.fitting import loop as fit_module
    from napari_dip.core.runtime.devices import resolve_precision

    configs = []
    steps = fit_module.Fit.steps

    def spy(self):
        configs.append(self.config)
        return steps(self)

    monkeypatch.setattr(fit_module.Fit, "steps", spy)
    code, _, err = run(capsys, "denoise", files["rgb"], "-o", tmp_path / "a.png", "--tv-weight", "0.05", *FAST)
    assert code == 0, err
    assert configs[-1].tv_weight == 0.05 and configs[-1].precision == resolve_precision("auto", "cpu")
    code, _, err = run(capsys, "denoise", files["rgb"], "-o", tmp_path / "b.png", "--precision", "bfloat16", *FAST)
    assert code == 0, err
    assert configs[-1].tv_weight == 0.0 and configs[-1].precision == "bfloat16"
    code, _, err = run(capsys, "denoise", files["rgb"], "-o", tmp_path / "c.png", "--holdout", "0.05", *FAST)
    assert code == 0, err
    assert configs[-1].holdout == 0.05 and configs[-2].holdout == 0.0


def test_adaptive_threads_reach_the_fit(files, tmp_path, capsys, monkeypatch):
    from napari_dip.core.fitting import loop as fit_module
    made = []

    class Recording(fit_module.ThreadGovernor):
        def __init__(self, counts, **kwargs):
            made.append(tuple(counts))
            super().__init__(counts, **kwargs)

    monkeypatch.setattr(fit_module, "ThreadGovernor", Recording)
    code, _, err = run(capsys, "denoise", files["rgb"], "-o", tmp_path / "a.png", "--threads", "adaptive", *FAST)
    assert code == 0, err
    config = tmp_path / "settings.json"
    config.write_text(json.dumps({"threads": "adaptive"}))
    code, _, err = run(capsys, "denoise", files["rgb"], "-o", tmp_path / "b.png", "--config", config, *FAST)
    assert code == 0, err
    assert len(made) == 2
    with pytest.raises(SystemExit) as exit_info:
        main(["denoise", str(files["rgb"]), "--threads", "two", *FAST])
    assert exit_info.value.code == 2
    assert "'two': give a whole number of 1 or more, or 'adaptive'" in capsys.readouterr().err


@pytest.mark.parametrize(("flags", "averaged"), [([], True), (["--classic", "none"], False)])
def test_inpaint_averages_with_biharmonic_unless_told_not_to(files, tmp_path, capsys, flags, averaged):
    from napari_dip.batch.files import read_settings

    out = tmp_path / "filled.png"
    code, _, err = run(capsys, "inpaint", files["rgb"], "--mask", files["mask"], "-o", out, *flags, *FAST)
    assert code == 0, err
    settings = read_settings(out)
    assert ("classic_share" in settings) is averaged and settings.get("classic") == ("biharmonic" if averaged else None)
