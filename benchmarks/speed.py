"""Speed: seconds per iteration, and time to reach a PSNR, for the denoising fit.

Part 1 - seconds per iteration of a denoising fit (RGB, square images of
random values; the content does not change the cost) for the ``paper`` and
``fast`` networks at 128, 256 and 512 pixels, three ways, all in one run:

* **engine fp32**: ``napari_dip`` 's fit loop (``Fit.steps``), float32;
* **engine bf16**: the same with ``precision="bfloat16"`` (autocast);
* **reference loop**: the loop of the original DIP notebooks, written here
  with the same network, code and optimiser: float32, the output and its EMA
  copied to the host and scored with skimage's PSNR every iteration, and all
  parameters copied to the host every iteration for backtracking.

Each is timed per iteration after warm-up iterations; the table gives the
medians and the ratios of medians. FLOPs - the floating-point operations of
one fp32 iteration (forward + backward, counted by torch's FlopCounterMode)
of each timed preset and size, the GFLOP/s the engine fp32 median achieves
and its fraction of this CPU's float32 peak (:func:`cpu_peak`). Part 2 -
iterations and seconds until the PSNR of the output (and of its EMA) first
reaches a target on a noisy crop (F16, sigma = 25/255, seed 0), from the PSNR
in the Progress records (``reference=``), which are computed every 10
iterations. Precision quality - the PSNR and wall time of a whole denoising
fit of the same crop in float32 and in bfloat16 autocast, same seed and
iterations.

Modes
-----
full (default): 20 timed iterations after 3 warm-up ones (512 x 512: 3 after
1), all sizes; time to 28 dB on a 128 x 128 crop, at most 1800 iterations.
``--quick``: 5 timed after 2 warm-up, 128 and 256 (512 with ``fast`` only);
time to 24 dB on a 64 x 64 crop, at most 300 iterations. Precision quality:
600 iterations on the 128 x 128 crop (quick: 200 on 64 x 64).

Layout - seconds per iteration of the fast and sure presets on a noisy
RGB crop (astronaut in [0.1, 0.9], sigma = 25/255; the time-to-PSNR crop's
size) with the network contiguous and
channels-last, at 1 thread and all cores, in the automatic precision and in
float32, the layouts taking turns over 3 rounds (quick: 1).

Batch - images per minute of the command line on a batch of 8 small images
(64 x 64 grey, ``fast`` preset, 300 iterations; quick: 32 x 32, 50), serial
and with ``--workers 2``, in the same run, every fit with ``--threads`` (the
benchmark's ``--threads``, default 1): the serial run fits one image at a
time, the 2 workers two at a time. The ``--workers`` time includes starting
the cluster and its worker processes.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402


def engine_times(image: np.ndarray, preset: str, precision: str, warmup: int, timed: int,
                 threads: int | None = 0, memory_format: str = "auto") -> list[float]:
    """Per-iteration seconds of the engine's loop (``threads`` 0: the count set by --threads)."""
    import torch

    from napari_dip.core.tasks.prepare import prepare_denoise

    threads = torch.get_num_threads() if threads == 0 else threads
    task = prepare_denoise(image, preset=preset, iterations=warmup + timed, device="cpu", precision=precision,
                           threads=threads, memory_format=memory_format)
    times, last = [], time.perf_counter()
    for _ in task.steps():
        now = time.perf_counter()
        times.append(now - last)
        last = now
    return times[warmup:]


def reference_times(image: np.ndarray, preset: str, warmup: int, timed: int, show_every: int = 100) -> list[float]:
    """Per-iteration seconds of a loop written like the original DIP code (denoising notebook)."""
    import torch
    from skimage.metrics import peak_signal_noise_ratio

    from napari_dip.core.model.codes import noise_code
    from napari_dip.core.model.networks import build_network
    from napari_dip.core.tasks.presets import task_preset

    chosen = task_preset("denoise", preset=preset)
    torch.manual_seed(0)
    net = build_network(chosen.network, chosen.code_channels, 3).train()
    img_np = np.moveaxis(image, -1, 0).astype(np.float32)
    noisy_torch = torch.from_numpy(img_np)[None]
    net_input_saved = noise_code(chosen.code_channels, *img_np.shape[1:], torch.Generator().manual_seed(1))
    noise = net_input_saved.clone()
    optimizer = torch.optim.Adam(net.parameters(), lr=chosen.lr)
    out_avg, last_net, psnr_noisy_last = None, None, 0.0
    times = []
    for i in range(warmup + timed):
        start = time.perf_counter()
        optimizer.zero_grad()
        net_input = net_input_saved + noise.normal_() * chosen.code_noise_std
        out = net(net_input)
        out_avg = out.detach() if out_avg is None else out_avg * chosen.ema + out.detach() * (1 - chosen.ema)
        total_loss = torch.nn.functional.mse_loss(out, noisy_torch)
        total_loss.backward()
        out_np = out.detach().cpu().numpy()[0]
        psnr_noisy = peak_signal_noise_ratio(img_np, out_np, data_range=1)
        peak_signal_noise_ratio(img_np, out_avg.cpu().numpy()[0], data_range=1)  # psnr_gt_sm in the original
        if i % show_every:  # backtracking, as in the original: parameters to the host every iteration
            if psnr_noisy - psnr_noisy_last < -5 and last_net is not None:
                for saved, param in zip(last_net, net.parameters()):
                    param.data.copy_(saved)
            else:
                last_net = [x.detach().cpu() for x in net.parameters()]
                psnr_noisy_last = psnr_noisy
        optimizer.step()
        times.append(time.perf_counter() - start)
    return times[warmup:]


def per_iteration(args, sizes: list[int], presets: list[str]) -> tuple[str, dict[tuple[str, int], float]]:
    """The seconds-per-iteration table, and the engine's fp32 median of each (preset, size)."""
    rows, fp32_medians = [], {}
    rng = np.random.default_rng(0)
    for preset in presets:
        for size in sizes:
            if size >= 512 and preset == "paper" and args.quick:
                continue
            warmup, timed = (2, 5) if args.quick else ((1, 3) if size >= 512 else (3, 20))
            if args.iterations:
                warmup, timed = 1, args.iterations
            image = rng.random((size, size, 3), dtype=np.float32)
            fp32 = np.median(engine_times(image, preset, "float32", warmup, timed))
            fp32_medians[preset, size] = float(fp32)
            bf16 = None if args.no_bf16 else np.median(engine_times(image, preset, "bfloat16", warmup, timed))
            ref = np.median(reference_times(image, preset, warmup, timed))
            rows.append([preset, f"{size}x{size}", timed, common.fmt(fp32, 3), common.fmt(bf16, 3), common.fmt(ref, 3),
                         common.fmt(None if bf16 is None else fp32 / bf16), common.fmt(ref / fp32)])
            print(f"done {preset} {size}: {rows[-1][3:]}", flush=True)
    headers = ["preset", "size", "timed its", "engine fp32 (s/it)", "engine bf16 (s/it)", "reference loop (s/it)",
               "bf16 speed-up", "engine speed-up vs reference"]
    return common.table(headers, rows), fp32_medians


def iteration_flops(image: np.ndarray, preset: str) -> float:
    """Floating-point operations of one fp32 iteration of the engine (forward + backward) on ``image``.

    FlopCounterMode counts matrix products and convolutions (forward and
    backward); element-wise work (activations, BatchNorm, Adam) is not counted.
    """
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    from napari_dip.core.tasks.prepare import prepare_denoise

    task = prepare_denoise(image, preset=preset, iterations=1, device="cpu", precision="float32",
                           threads=torch.get_num_threads())
    with FlopCounterMode(display=False) as counter:
        task.run()
    return float(counter.get_total_flops())


def cpu_mhz() -> tuple[float, str]:
    """The CPU's highest clock in MHz and where it was read: lscpu's max, else /proc/cpuinfo's highest."""
    try:
        lscpu = subprocess.run(["lscpu"], capture_output=True, text=True, env={**os.environ, "LC_ALL": "C"}).stdout
    except OSError:
        lscpu = ""
    if found := re.search(r"CPU max MHz:\s*([\d.]+)", lscpu):
        return float(found.group(1)), "max MHz of lscpu"
    try:
        values = [float(v) for v in re.findall(r"^cpu MHz\s*:\s*([\d.]+)", Path("/proc/cpuinfo").read_text(), re.M)]
    except OSError:
        values = []
    return (max(values), "cpu MHz of /proc/cpuinfo, lscpu gives no max") if values else (float("nan"), "unknown")


def cpu_peak(threads: int) -> tuple[float, str]:
    """This CPU's float32 peak in GFLOP/s on ``threads`` cores, and how it was estimated.

    cores x clock x FLOPs per cycle per core from the ISA flags: AVX-512 with
    2 FMA units 64 (2 x 16 lanes x 2), AVX2 + FMA 32 (2 x 8 lanes x 2), else 8.
    """
    from napari_dip.core.runtime.devices import cpu_flags

    flags = cpu_flags()
    if "avx512f" in flags:
        per_cycle, isa = 64, "AVX-512, 2 FMA units assumed"
    elif {"avx2", "fma"} <= flags:
        per_cycle, isa = 32, "AVX2 + FMA, 2 FMA units"
    else:
        per_cycle, isa = 8, "no AVX2 + FMA flags"
    mhz, source = cpu_mhz()
    cores = min(threads, os.cpu_count() or threads)
    how = f"{cores} core(s) x {mhz / 1000:.2f} GHz ({source}) x {per_cycle} FLOP/cycle ({isa})"
    return cores * mhz / 1000 * per_cycle, how


def flops_table(fp32_medians: dict[tuple[str, int], float], threads: int) -> tuple[str, str]:
    """GFLOP per iteration, achieved GFLOP/s and fraction of the CPU's peak per timed (preset, size)."""
    peak, how = cpu_peak(threads)
    rng = np.random.default_rng(0)
    rows = []
    for (preset, size), seconds in fp32_medians.items():
        gflop = iteration_flops(rng.random((size, size, 3), dtype=np.float32), preset) / 1e9
        rows.append([preset, f"{size}x{size}", common.fmt(gflop, 3), common.fmt(seconds, 3),
                     common.fmt(gflop / seconds, 1), common.fmt(peak, 1), f"{100 * gflop / seconds / peak:.1f} %"])
    headers = ["preset", "size", "GFLOP / iteration", "engine fp32 (s/it)", "achieved GFLOP/s",
               "fp32 peak GFLOP/s", "fraction of peak"]
    return common.table(headers, rows), how


def precision_quality(args, presets: list[str], size: int, iterations: int) -> tuple[str, float]:
    """PSNR and wall time of a whole denoising fit in float32 and in bfloat16 autocast; also the noisy PSNR."""
    import torch

    from napari_dip.core.tasks.prepare import prepare_denoise

    clean = common.crop(common.load(args.data, "dip/denoising/F16_GT.png"), size, 160, 128)
    noisy = common.add_noise(clean, 25 / 255, seed=0)
    rows = []
    for preset in presets:
        for precision in ("float32", "bfloat16"):
            task = prepare_denoise(noisy, preset=preset, iterations=iterations, device="cpu", precision=precision,
                                   seed=0, threads=torch.get_num_threads())
            with common.Timer() as timer:
                output, _ = task.run()
            rows.append([preset, precision, f"{size}x{size}", iterations, common.fmt(common.psnr(output, clean)),
                         common.fmt(timer.seconds, 1), common.fmt(timer.seconds / iterations, 3)])
            print(f"done quality {preset} {precision}: {rows[-1][4:]}", flush=True)
    headers = ["preset", "precision", "size", "iterations", "PSNR of the output (dB)", "wall time (s)", "s/it"]
    return common.table(headers, rows), common.psnr(noisy, clean)


def time_to_psnr(args, presets: list[str], target: float, cap: int, size: int) -> str:
    from napari_dip.core.tasks.prepare import prepare_denoise

    clean = common.crop(common.load(args.data, "dip/denoising/F16_GT.png"), size, 160, 128)
    noisy = common.add_noise(clean, 25 / 255, seed=0)
    rows = []
    for preset in presets:
        for precision in ("float32", "bfloat16"):
            reached: dict[str, tuple[int, float]] = {}
            best = [0.0, 0.0]

            def watch(record, reached=reached, best=best):
                for key, value in (("raw", record.psnr), ("EMA", record.psnr_ema)):
                    if value is not None:
                        best[key == "EMA"] = max(best[key == "EMA"], value)
                        if value >= target and key not in reached:
                            reached[key] = (record.iteration, record.elapsed)
                return len(reached) < 2

            task = prepare_denoise(noisy, preset=preset, iterations=cap, device="cpu", precision=precision,
                                   reference=clean, seed=0)
            task.run(watch)
            cells = [f"{reached[k][0]} / {reached[k][1]:.1f} s" if k in reached else f"not in {cap}"
                     for k in ("raw", "EMA")]
            rows.append([preset, precision, *cells, f"{common.fmt(best[0])} / {common.fmt(best[1])}"])
            print(f"done {preset} {precision}: {rows[-1][2:]}", flush=True)
    headers = ["preset", "precision", f"raw output >= {target:g} dB (iterations / time)",
               f"EMA >= {target:g} dB (iterations / time)", "best raw / EMA PSNR before the fit stopped"]
    return common.table(headers, rows)


def batch_throughput(images: int, size: int, iterations: int, threads: int) -> str:
    """Images per minute of ``napari-dip denoise FOLDER`` serial and with ``--workers 2``, one after the other."""
    import skimage.data
    import skimage.io
    import torch

    from napari_dip.cli import main as cli

    before = torch.get_num_threads()
    rows, seconds = [], []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "in"
        folder.mkdir()
        camera = skimage.data.camera()
        for k in range(images):
            skimage.io.imsave(folder / f"img{k}.png", camera[size * k % (512 - size):][:size, 100:100 + size],
                              check_contrast=False)
        for mode, extra in (("serial", []), ("--workers 2", ["--workers", "2"])):
            start = time.perf_counter()
            code = cli(["denoise", str(folder), "-o", str(Path(tmp) / mode), "--preset", "fast", "--iterations",
                        str(iterations), "--device", "cpu", "--threads", str(threads), "-q", *extra])
            seconds.append(elapsed := time.perf_counter() - start)
            if code != 0:
                raise RuntimeError(f"napari-dip {mode} failed with exit code {code}")
            rows.append([mode, threads, images, f"{size}x{size}", iterations, common.fmt(elapsed, 1),
                         common.fmt(60 * images / elapsed, 1)])
            print(f"done batch {mode}: {rows[-1][5:]}", flush=True)
    torch.set_num_threads(before)
    rows.append(["speed-up", "", "", "", "", "", common.fmt(seconds[0] / seconds[1])])
    headers = ["mode", "torch threads per fit", "images", "size", "iterations", "total (s)", "images / minute"]
    return common.table(headers, rows)


def busy_process() -> subprocess.Popen:
    """Start one core-hungry process (a Python busy loop) that stops by itself after 10 minutes."""
    code = "import time\nt = time.time()\nwhile time.time() - t < 600: pass\n"
    return subprocess.Popen([sys.executable, "-c", code])


def under_load(args, size: int, warmup: int, timed: int) -> str:
    """Seconds per iteration idle and next to one busy process: torch's default threads, all cores but one, and the
    engine's default (``threads="adaptive"``, or ``OMP_NUM_THREADS`` where it is set)."""
    from napari_dip.core.runtime.threads import default_threads, resolve_threads, usable_cores

    image = np.random.default_rng(0).random((size, size, 3), dtype=np.float32)
    def count(threads: int) -> str:
        return f"{threads} thread{'s' if threads > 1 else ''}"

    policies = {f"torch default ({count(usable_cores())})": usable_cores(),
                f"all cores but one ({count(default_threads())})": default_threads(),
                f"engine default (threads={resolve_threads(None)!r})": None}
    times: dict[tuple[str, bool], float] = {}
    for loaded in (False, True):
        hog = busy_process() if loaded else None
        try:
            time.sleep(0.5 if loaded else 0.0)
            for name, threads in policies.items():
                times[name, loaded] = float(np.median(engine_times(image, "fast", "float32", warmup, timed, threads)))
        finally:
            if hog is not None:
                hog.kill()
                hog.wait()
    rows = [[name, common.fmt(times[name, False], 3), common.fmt(times[name, True], 3),
             common.fmt(times[name, True] / times[name, False]),
             common.fmt(times[name, True] / min(times[n, False] for n in policies))] for name in policies]
    headers = ["threads", "idle (s/it)", "next to 1 busy process (s/it)", "slow-down loaded / idle",
               "loaded vs fastest idle"]
    return common.table(headers, rows)


def memory_layout(size: int, warmup: int, timed: int, rounds: int) -> str:
    """Seconds per iteration with the network laid out contiguous and channels-last, side by side."""
    import skimage.data

    from napari_dip.core.runtime.devices import resolve_memory_format
    from napari_dip.core.runtime.threads import usable_cores

    clean = 0.1 + 0.8 * common.to_float(skimage.data.astronaut())  # away from 0 and 1: no noise clipped
    image = common.add_noise(common.crop(clean, size), 25 / 255)
    layouts = ("contiguous", "channels_last")
    cases = [(preset, precision, threads) for preset in ("fast", "sure") for precision in ("auto", "float32")
             for threads in sorted({1, usable_cores()})]
    times: dict[tuple, list[float]] = {}
    for _ in range(rounds):  # the layouts take turns, case by case
        for case in cases:
            for layout in layouts:
                times.setdefault((*case, layout), []).extend(engine_times(image, case[0], case[1], warmup, timed,
                                                                          case[2], layout))
    rows = []
    for preset, precision, threads in cases:
        plain, last = (float(np.median(times[preset, precision, threads, layout])) for layout in layouts)
        rows.append([preset, precision, threads, common.fmt(plain, 4), common.fmt(last, 4), common.fmt(plain / last)])
    headers = ["preset", "precision", "threads", "contiguous (s/it)", "channels-last (s/it)",
               "contiguous / channels-last"]
    return common.table(headers, rows) + f"\n\nmemory_format='auto' here: {resolve_memory_format('auto', 'cpu')}."


#: The tables the script can print, in order.
PARTS = ("iteration", "reach", "precision", "load", "layout", "batch")


def main(argv: list[str] | None = None) -> str:
    p = common.parser(__doc__)
    p.add_argument("--sizes", help="comma-separated sides (full 128,256,512; quick 128,256,512 without paper 512)")
    p.add_argument("--presets", default="paper,fast")
    p.add_argument("--iterations", type=int, help="timed iterations per measurement (after 1 warm-up)")
    p.add_argument("--target", type=float, help="PSNR target in dB (full 28, quick 24)")
    p.add_argument("--max-iterations", type=int, help="cap of the time-to-PSNR fits (full 1800, quick 300)")
    p.add_argument("--crop", type=int, help="side of the time-to-PSNR and precision-quality crop (full 128, "
                   "quick 64)")
    p.add_argument("--quality-iterations", type=int, help="iterations of the precision-quality fits (full 600, "
                   "quick 200)")
    p.add_argument("--batch-images", type=int, default=8, help="images in the batch of part 3 (default 8)")
    p.add_argument("--batch-size", type=int, help="side of the batch's images (full 64, quick 32)")
    p.add_argument("--batch-iterations", type=int, help="iterations per batch image (full 300, quick 50)")
    p.add_argument("--parts", default=",".join(PARTS), help=f"comma-separated tables among {', '.join(PARTS)} "
                   "(default: all; 'iteration' includes the FLOP table)")
    p.add_argument("--rounds", type=int, help="rounds of the layout table (full 3, quick 1)")
    p.add_argument("--no-bf16", action="store_true", help="skip the bfloat16 timings of the per-iteration table")
    args = p.parse_args(argv)
    common.setup(args, engine_threads=False)
    parts = set(args.parts.split(","))
    if parts - set(PARTS):
        p.error(f"--parts: unknown {', '.join(sorted(parts - set(PARTS)))}; choose among {', '.join(PARTS)}")
    sizes = [int(s) for s in args.sizes.split(",")] if args.sizes else [128, 256, 512]
    presets = args.presets.split(",")
    target = args.target or (24.0 if args.quick else 28.0)
    cap = args.max_iterations or (300 if args.quick else 1800)
    crop = args.crop or (64 if args.quick else 128)
    tables, captions = [], []
    if "iteration" in parts:
        speed, fp32_medians = per_iteration(args, sizes, presets)
        flops, peak_how = flops_table(fp32_medians, args.threads)
        tables += [speed, flops]
        captions += [
            "Median seconds per iteration of a denoising fit (RGB), with ratios of the medians (> 1: faster than the "
            "column it is compared with); the reference loop is fp32 with the output, its EMA and all parameters "
            "copied to the host every iteration, as in the original DIP code.",
            "Floating-point operations of one fp32 iteration (forward + backward; matrix products and convolutions "
            "as counted by torch's FlopCounterMode, element-wise work not counted), the GFLOP/s the engine fp32 "
            f"median achieves and its fraction of this CPU's float32 peak, estimated as {peak_how}.",
        ]
    if "reach" in parts:
        tables.append(time_to_psnr(args, presets, target, cap, crop))
        captions.append(f"First checked iteration (every 10) and elapsed fit time at which the PSNR reaches "
                        f"{target:g} dB on a {crop}x{crop} F16 crop with sigma = 25/255 noise (seed 0); each fit "
                        f"stops once both reach it, or after {cap} iterations.")
    from napari_dip.core.runtime.devices import cpu_native_bf16

    bf16 = ("bfloat16 is native on this CPU (AVX512-BF16 or AMX)" if cpu_native_bf16() else
            "this CPU has no native bfloat16 (no AVX512-BF16 or AMX): bfloat16 is emulated, so its times say "
            "nothing about native bfloat16 speed")
    if "precision" in parts:
        quality_iterations = args.quality_iterations or (200 if args.quick else 600)
        quality, noisy_psnr = precision_quality(args, presets, crop, quality_iterations)
        tables.append(quality)
        captions.append(f"PSNR of the output of a whole {quality_iterations}-iteration fit of the same noisy crop "
                        f"(itself {noisy_psnr:.2f} dB), float32 vs bfloat16 autocast, seed 0, with wall times; {bf16}.")
    if "load" in parts:
        tables.append(under_load(args, 64 if args.quick else 128, *((2, 5) if args.quick else (5, 40))))
        captions.append("Median seconds per iteration of the fast preset on a noisy RGB image, idle and next to one "
                        "core-hungry process started by the script (float32), with torch's default threads, all "
                        "cores but one, and the engine's default.")
    if "layout" in parts:
        size = args.crop or (64 if args.quick else 128)
        warmup, timed = (1, args.iterations) if args.iterations else ((2, 3) if args.quick else (3, 10))
        rounds = args.rounds or (1 if args.quick else 3)
        tables.append(memory_layout(size, warmup, timed, rounds))
        captions.append(f"Median seconds per iteration of a {size}x{size} RGB denoising fit (astronaut, sigma = "
                        f"25/255) with the network's tensors contiguous and channels-last (memory_format=), the "
                        f"two taking turns over {rounds} round(s) of {timed} timed iterations after {warmup} warm-up; "
                        "precision 'auto' is bfloat16 where the CPU has it natively.")
    if "batch" in parts:
        tables.append(batch_throughput(args.batch_images, args.batch_size or (32 if args.quick else 64),
                                       args.batch_iterations or (50 if args.quick else 300), args.threads))
        captions.append("Images per minute of `napari-dip denoise` on a folder of small images, serial and with "
                        "`--workers 2` (a local Dask cluster of 2 processes; its start-up time included), same run, "
                        f"{args.threads} torch thread(s) per fit in both.")
    caption = " ".join(f"({n}) {text}" for n, text in enumerate(captions, 1))
    body = "\n\n".join(tables)
    return common.emit("Speed", caption, body, args)


if __name__ == "__main__":
    main()
