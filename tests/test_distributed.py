"""Scale-out on Dask: real clusters (local processes, and a scheduler and worker started as commands)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import skimage.data
import skimage.io
import tifffile

pytest.importorskip("distributed")

from distributed import Client  # noqa: E402

import napari_dip  # noqa: E402
import napari_dip.batch.files  # noqa: E402
from napari_dip.batch import cluster as dip_dask
from napari_dip.cli import main  # noqa: E402

SRC = Path(napari_dip.__file__).resolve().parents[1]
#: Tiny fits, one torch thread each: the same in this process and in the workers.
FAST = ["--preset", "fast", "--iterations", "10", "--device", "cpu", "--threads", "1"]


def run(capsys, *argv) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def make_inputs(folder: Path, count: int, stack: bool = True) -> list[str]:
    """``count`` small PNGs (grey and colour), plus a 2-slice uint16 TIFF stack; returns the file names."""
    folder.mkdir(exist_ok=True)
    astronaut, camera = skimage.data.astronaut(), skimage.data.camera()
    names = []
    for k in range(count):
        name = f"img{k}.png"
        image = astronaut[40 * k:40 * k + 16, 100:124] if k % 2 else camera[30 * k:30 * k + 20, 200:216]
        skimage.io.imsave(folder / name, image, check_contrast=False)
        names.append(name)
    if stack:
        tifffile.imwrite(folder / "stack.tif", (camera[:32:2, :48:2].astype(np.uint16) * 200)[None].repeat(2, 0)
                         + np.arange(2, dtype=np.uint16)[:, None, None] * 999, photometric="minisblack")
        names.append("stack.tif")
    return names


def read(path: Path) -> np.ndarray:
    return tifffile.imread(path) if path.suffix == ".tif" else skimage.io.imread(path)


def outputs_of(names: list[str]) -> list[str]:
    return sorted(f"{Path(n).stem}_denoised{Path(n).suffix}" for n in names)


@pytest.fixture(scope="module")
def cluster():
    """A local cluster of 2 worker processes, one task at a time each, shared by the tests of this module."""
    with dip_dask.local_cluster(2, "cpu") as local, Client(local) as client:
        yield local, client


def test_local_cluster_of_two_processes_equals_serial_and_reports_failed_inputs(tmp_path, capsys):
    names = make_inputs(tmp_path / "in", 3)
    (tmp_path / "in" / "broken.png").write_bytes(b"not an image")  # fails when read, in this process
    tifffile.imwrite(tmp_path / "in" / "tiny.tif", np.zeros((2, 3, 5), np.uint16))  # fails in the workers
    code, _, err = run(capsys, "denoise", tmp_path / "in", "-o", tmp_path / "serial", "-q", *FAST)
    assert code == 1 and "2 of 6 inputs failed" in err
    code, stdout, err = run(capsys, "denoise", tmp_path / "in", "-o", tmp_path / "dask", "--workers", "2", *FAST)
    assert code == 1
    assert "broken.png: cannot read the image" in err and "2 of 6 inputs failed" in err and "Traceback" not in err
    assert err.count("tiny.tif: The image is 3x5 pixels: each side needs at least 4 pixels.") == 1  # once per input
    assert stdout.count("napari-dip: wrote") == 4 and "(2 image(s)" in stdout  # the stack: 2 slices, 2 tasks
    assert sorted(p.name for p in (tmp_path / "dask").iterdir()) == outputs_of(names)
    for name in outputs_of(names):
        serial, distributed = read(tmp_path / "serial" / name), read(tmp_path / "dask" / name)
        assert serial.dtype == distributed.dtype and np.array_equal(serial, distributed), name


def test_a_worker_killed_mid_batch_loses_nothing_and_a_rerun_redoes_only_the_rest(cluster, tmp_path, capsys,
                                                                                   monkeypatch):
    local, client = cluster
    names = make_inputs(tmp_path / "in", 6, stack=False)
    writes: list[Path] = []
    atomic_write = napari_dip.batch.files.atomic_write
    monkeypatch.setattr(napari_dip.batch.files, "atomic_write", lambda path, writer: (writes.append(path),
                                                                             atomic_write(path, writer)))
    argv = ["denoise", tmp_path / "in", "-o", tmp_path / "out", "--scheduler", local.scheduler_address,
            "--preset", "fast", "--iterations", "20", "--device", "cpu", "--threads", "1"]
    result: list[int] = []
    batch = threading.Thread(target=lambda: result.append(main([str(a) for a in [*argv, "-q"]])))
    batch.start()
    killed = None
    deadline = time.monotonic() + 120
    while killed is None and batch.is_alive() and time.monotonic() < deadline:
        busy = [address for address, tasks in client.processing().items() if tasks]
        if busy and writes:  # some inputs done, others running
            killed = client.run(os.getpid, workers=busy[:1])[busy[0]]
            os.kill(killed, signal.SIGKILL)
        time.sleep(0.05)
    batch.join(timeout=300)
    assert killed is not None, "the batch ended before a worker could be killed"
    assert result == [0], capsys.readouterr().err
    outputs = [tmp_path / "out" / n for n in outputs_of(names)]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == outputs_of(names)  # no temporary files
    assert sorted(p.name for p in writes) == outputs_of(names)  # each written exactly once

    first = {path: (read(path), path.stat().st_mtime_ns) for path in outputs}
    missing = outputs[:2]  # as if the batch had been stopped before these
    for path in missing:
        path.unlink()
    code, stdout, err = run(capsys, *argv)
    assert code == 0, err
    assert stdout.count("napari-dip: skipped") == 4 and stdout.count("napari-dip: wrote") == 2
    for path, (data, mtime) in first.items():
        assert np.array_equal(read(path), data)  # same seeds and threads: the same result on any worker
        assert (path.stat().st_mtime_ns == mtime) == (path not in missing)


def test_map_blocks_on_numpy_and_dask_is_lazy_and_equals_the_api(cluster, monkeypatch):
    import dask.array as da

    _, client = cluster
    stack = np.stack([skimage.data.camera()[k * 40:k * 40 + 16, 100:124] for k in range(2)])
    options = {"preset": "fast", "iterations": 5, "device": "cpu", "seed": 3}
    expected = np.stack([napari_dip.denoise(s, **options) for s in stack])
    assert np.array_equal(napari_dip.map_blocks("denoise", stack, threads=1, **options).compute(), expected)

    reads: list[int] = []

    def load(block, block_info=None):
        reads.append(block_info[None]["chunk-location"])
        return stack[tuple(slice(*span) for span in block_info[None]["array-location"])]

    lazy = da.zeros(stack.shape, dtype=stack.dtype, chunks=(2, 8, 24)).map_blocks(load, dtype=stack.dtype)
    restored = napari_dip.map_blocks("denoise", lazy, threads=1, **options)
    assert isinstance(restored, da.Array) and not reads  # nothing read or fitted yet
    assert restored.shape == stack.shape and restored.dtype == stack.dtype
    assert np.array_equal(client.compute(restored).result(), expected)  # one task per slice, on the cluster

    rgb = np.moveaxis(skimage.data.astronaut()[:2 * 16, :24].reshape(2, 16, 24, 3), -1, 1)  # (2, C, Y, X)
    big = napari_dip.map_blocks("super_resolution", rgb, channel_axis=1, factor=2, threads=1, **options)
    assert big.shape == (2, 3, 32, 48)
    assert np.array_equal(big[1].compute(), np.moveaxis(
        napari_dip.super_resolve(np.moveaxis(rgb[1], 0, -1), factor=2, **options), -1, 0))


def test_map_blocks_refuses_bad_arguments():
    with pytest.raises(ValueError, match="task='sharpen': choose one of denoise"):
        napari_dip.map_blocks("sharpen", np.zeros((2, 16, 16)))
    with pytest.raises(ValueError, match="shape \\(16,\\) has no images"):
        napari_dip.map_blocks("denoise", np.zeros(16))
    with pytest.raises(ValueError, match="channel_axis=3 is outside an array of 3 dimensions"):
        napari_dip.map_blocks("denoise", np.zeros((16, 16, 3)), channel_axis=3)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_cli_on_a_scheduler_and_worker_started_as_commands(tmp_path, capsys):
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(SRC), os.environ.get("PYTHONPATH")]))}
    dask = [sys.executable, "-m", "dask"]
    logs = open(tmp_path / "dask.log", "w")  # noqa: SIM115 (closed below)
    processes = []
    try:
        processes.append(subprocess.Popen([*dask, "scheduler", "--host", "127.0.0.1", "--port", str(port),
                                           "--no-dashboard"], env=env, stdout=logs, stderr=logs))
        processes.append(subprocess.Popen([*dask, "worker", address, "--nthreads", "2", "--host", "127.0.0.1",
                                           "--no-dashboard"], env=env, stdout=logs, stderr=logs))
        names = make_inputs(tmp_path / "in", 2)
        code, stdout, err = run(capsys, "denoise", tmp_path / "in", "-o", tmp_path / "out", "--scheduler", address,
                                "--preset", "fast", "--iterations", "10", "--device", "cpu")
        # no --threads: each task takes cores // 2 torch threads, as the worker runs 2 tasks at once
        assert code == 0, err + (tmp_path / "dask.log").read_text()[-3000:]
        assert stdout.count("napari-dip: wrote") == 3
        for name in outputs_of(names):
            assert read(tmp_path / "out" / name).shape == read(tmp_path / "in" / name.replace("_denoised", "")).shape
    finally:
        for process in reversed(processes):
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        logs.close()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--workers", "0"], "--workers 0: use 1 or more worker processes"),
        (["--workers", "2", "--scheduler", "tcp://127.0.0.1:1"], "not both"),
        (["--scheduler", "tcp://127.0.0.1:{port}"], "cannot connect"),
    ],
)
def test_bad_scale_out_flags_get_one_line(tmp_path, capsys, monkeypatch, extra, message):
    monkeypatch.setattr(dip_dask, "CONNECT_TIMEOUT", "1s")
    make_inputs(tmp_path / "in", 1, stack=False)
    extra = [e.format(port=free_port()) for e in extra]
    code, _, err = run(capsys, "denoise", tmp_path / "in", "-o", tmp_path / "out", *FAST, *extra)
    assert code == 1
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("napari-dip: error: ") and message in lines[0], err
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_without_dask_the_flags_say_how_to_install_it(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed now raises ImportError
    make_inputs(tmp_path / "in", 1, stack=False)
    code, _, err = run(capsys, "denoise", tmp_path / "in", "--workers", "2", *FAST)
    assert code == 1 and 'pip install "napari-dip[distributed]"' in err


def test_plain_import_needs_no_dask():
    code = ("import sys, napari_dip; napari_dip.map_blocks; import napari_dip.cli; "
            "assert not {'dask', 'distributed'} & set(sys.modules), sorted(sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            env={**os.environ, "PYTHONPATH": str(SRC)})
    assert result.returncode == 0, result.stderr[-2000:]


def test_threads_and_gpus_per_worker():
    assert dip_dask.threads_per_worker(2, cores=16) == 8
    assert dip_dask.threads_per_worker(4, cores=2) == 1
    assert dip_dask.gpu_environments(3, 2) == [{"CUDA_VISIBLE_DEVICES": "0"}, {"CUDA_VISIBLE_DEVICES": "1"},
                                               {"CUDA_VISIBLE_DEVICES": "0"}]
