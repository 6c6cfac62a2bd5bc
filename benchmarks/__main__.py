"""``python -m benchmarks``: edu_gen's loops against the textbook loops, one epoch at a time.

For each model both loops train their own copy (same initial weights, batch and seed).
After warm-up epochs (compilation, CUDA-graph recording, allocator growth) they run
``--repeats`` epochs each, alternating which goes first, and the medians are compared:

    <model>: edu_gen X s/epoch, textbook Y s/epoch, speed-up Rx

Peak memory: on CUDA ``torch.cuda.max_memory_allocated`` during an epoch, above what was
allocated before it. On the CPU a fresh process per loop (``--memory-of``) reports its peak
resident memory (VmHWM, reset after loading data and model) above its resident memory then.
The edu_gen epoch is a whole ``train_vae``/``train_gan`` call (its checks, optimizer and
batches included), with the speed engineering of ``edu_gen.fast``: convolutions stored
channels-last, and with ``--compile`` the step (VAE) or the networks (GAN) compiled. The
textbook's optimizer and DataLoader are built once, outside the timer.
"""
import argparse
import datetime
import os
import platform
import statistics
import subprocess
import sys
import time

os.environ.setdefault("TQDM_DISABLE", "1")  # no progress bars in the benchmark's output

import torch  # noqa: E402

from edu_gen.data import load_fashion_mnist, load_mnist, sample_mixture  # noqa: E402
from edu_gen.fast import channels_last, compile_network, compiled  # noqa: E402
from edu_gen.gan import (DCGANDiscriminator, DCGANGenerator, MLPDiscriminator,  # noqa: E402
                         MLPGenerator)
from edu_gen.gan_train import train_gan  # noqa: E402
from edu_gen.runtime import get_device, seed_everything  # noqa: E402
from edu_gen.vae import VAE  # noqa: E402
from edu_gen.vae_train import train_vae, vae_step  # noqa: E402

from . import textbook  # noqa: E402

MODELS = ("mlp-vae", "conv-vae", "dcgan", "ring-gan")
BATCH_SIZE = 128
RING_POINTS = {"small": 8192, "full": 65536}
DCGAN_SMALL = 2048  # a DCGAN epoch of 4,000 digits takes 10 s on 2 cores: half keeps make bench short


# --- data -------------------------------------------------------------------------------------

def mnist_sized_images(size):
    """(images (N, 1, 28, 28) in [0, 1], where they came from) for the image models.

    ``small``: the 4,000 embedded MNIST digits. ``full``: 60,000 images, full MNIST when on
    disk or downloadable, else Fashion-MNIST's 60,000 (same size and shape) offline.
    """
    if size == "small":
        return load_mnist("train", small=True)[0], "4,000 embedded MNIST digits"
    images, _ = load_mnist("train")
    if len(images) >= 60000:
        return images, f"{len(images):,} MNIST images"
    images, _ = load_fashion_mnist("train")
    return images, f"{len(images):,} Fashion-MNIST images (full MNIST not available offline)"


# --- the cases: (edu_gen epoch, textbook epoch) for one model ----------------------------------

def twins(make, device):
    """Two copies of a freshly seeded model with the same initial weights."""
    seed_everything(0)
    ours = make().to(device)
    theirs = make().to(device)
    theirs.load_state_dict(ours.state_dict())
    return ours, theirs


def vae_case(make, images, device, compile):
    ours, theirs = twins(make, device)
    channels_last(ours)
    step = compiled(vae_step) if compile else vae_step
    on_device = images.to(device)
    loader = textbook.make_loader(images, BATCH_SIZE)
    optimizer = textbook.make_vae_optimizer(theirs)

    def edu_gen():
        train_vae(ours, on_device, epochs=1, batch_size=BATCH_SIZE, step=step)

    def plain():
        textbook.vae_epoch(theirs, loader, optimizer, device)

    return edu_gen, plain


def gan_case(make_g, make_d, data, device, compile):
    g_ours, g_theirs = twins(make_g, device)
    d_ours, d_theirs = twins(make_d, device)
    channels_last(g_ours, d_ours)
    if compile:
        compile_network(g_ours), compile_network(d_ours)
    on_device = data.to(device)
    loader = textbook.make_loader(data, BATCH_SIZE, drop_last=True)  # as train_gan does
    optimizers = textbook.make_gan_optimizers(g_theirs, d_theirs)

    def edu_gen():
        train_gan(g_ours, d_ours, on_device, epochs=1, batch_size=BATCH_SIZE)

    def plain():
        textbook.gan_epoch(g_theirs, d_theirs, loader, optimizers, device)

    return edu_gen, plain


def make_case(name, size, device, compile):
    """(edu_gen epoch, textbook epoch, what the data is) for one model."""
    if name == "ring-gan":
        n = RING_POINTS[size]
        data = sample_mixture("ring", n, generator=torch.Generator().manual_seed(0))
        return (*gan_case(MLPGenerator, MLPDiscriminator, data, device, compile),
                f"{n:,} points of the 8-mode ring")
    images, source = mnist_sized_images(size)
    if name == "mlp-vae":
        return (*vae_case(lambda: VAE(latent_dim=20, hidden=(400,)), images, device, compile),
                source)
    if name == "conv-vae":
        return (*vae_case(lambda: VAE(latent_dim=20, conv=True), images, device, compile),
                source)
    if name == "dcgan":
        if size == "small":
            images, source = images[:DCGAN_SMALL], f"the first {DCGAN_SMALL:,} of the {source}"
        return (*gan_case(DCGANGenerator, DCGANDiscriminator, images * 2 - 1, device, compile),
                source + ", scaled to [-1, 1]")
    raise ValueError(f"unknown model {name!r}: use one of {MODELS}")


# --- timing and memory --------------------------------------------------------------------------

def synchronize(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def timed(epoch, device):
    """(seconds, peak CUDA bytes above the start or None) of one epoch."""
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
        start_bytes = torch.cuda.memory_allocated(device)
    synchronize(device)
    start = time.perf_counter()
    epoch()
    synchronize(device)
    seconds = time.perf_counter() - start
    peak = torch.cuda.max_memory_allocated(device) - start_bytes if device.type == "cuda" else None
    return seconds, peak


def proc_status_kib(field):
    """A memory figure of this process from /proc/self/status, in KiB (Linux only)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise OSError(f"{field} not in /proc/self/status")


def measure_cpu_memory(name, which, size):
    """Run in a fresh process: peak resident memory of two epochs of one loop, in MiB."""
    edu_gen, plain, _ = make_case(name, size, torch.device("cpu"), compile=False)
    epoch = edu_gen if which == "edu_gen" else plain
    with open("/proc/self/clear_refs", "w") as clear_refs:
        clear_refs.write("5")  # reset the peak (VmHWM) to the resident memory now
    before = proc_status_kib("VmRSS")
    for _ in range(2):
        epoch()
    print(f"peak_mib {(proc_status_kib('VmHWM') - before) / 1024:.1f}")


def cpu_memory_mib(name, which, size):
    """Peak MiB of one loop, measured in a subprocess; None where that is impossible."""
    command = [sys.executable, "-m", "benchmarks", "--memory-of", name, which, "--size", size]
    result = subprocess.run(command, capture_output=True, text=True,
                            env={**os.environ, "EDU_GEN_DEVICE": "cpu"})
    for line in result.stdout.splitlines():
        if line.startswith("peak_mib "):
            return float(line.split()[1])
    print(f"  (memory of {name}/{which} not measured: {result.stderr.strip()[-200:]})")
    return None


# --- the report -----------------------------------------------------------------------------------

def describe_machine(device, compile):
    if device.type == "cuda":
        name = torch.cuda.get_device_name(device)
    else:
        name = platform.processor() or platform.machine()
        try:
            with open("/proc/cpuinfo") as cpuinfo:
                name = next(l.split(":", 1)[1].strip() for l in cpuinfo if l.startswith("model name"))
        except (OSError, StopIteration):
            pass
        name += f", {os.cpu_count()} logical cores, {torch.get_num_threads()} torch threads"
    date = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (f"date: {date}; device: {device.type} ({name}); load average at start: {load:.2f}\n"
            f"python {platform.python_version()}, torch {torch.__version__}, "
            f"edu_gen compile={'on' if compile else 'off'}")


def fmt_mib(value):
    return "n/a" if value is None else f"{value:.0f} MiB"


def benchmark(name, args, device, compile):
    edu_gen, plain, data = make_case(name, args.size, device, compile)
    for _ in range(args.warmup):
        edu_gen()
        plain()
    seconds = {"edu_gen": [], "textbook": []}
    peaks = {"edu_gen": [], "textbook": []}
    for repeat in range(args.repeats):
        order = [("edu_gen", edu_gen), ("textbook", plain)]
        for which, epoch in (order if repeat % 2 == 0 else order[::-1]):
            seed_everything(repeat)
            elapsed, peak = timed(epoch, device)
            seconds[which].append(elapsed)
            if peak is not None:
                peaks[which].append(peak / 2**20)
    ours, theirs = (statistics.median(seconds[w]) for w in ("edu_gen", "textbook"))
    print(f"{name}: edu_gen {ours:.3f} s/epoch, textbook {theirs:.3f} s/epoch, "
          f"speed-up {theirs / ours:.2f}x")
    spread = ", ".join(f"{w} {min(s):.3f}..{max(s):.3f}" for w, s in seconds.items())
    print(f"  data: {data}, batch {BATCH_SIZE}; medians of {args.repeats} interleaved "
          f"epochs after {args.warmup} warm-up (range: {spread})")
    if device.type == "cuda":
        memory = {w: max(p) for w, p in peaks.items()}
        how = "peak CUDA memory above the start of an epoch"
    elif args.memory and sys.platform.startswith("linux"):
        memory = {w: cpu_memory_mib(name, w, args.size) for w in ("edu_gen", "textbook")}
        how = "peak resident memory of 2 epochs in a fresh process, above data + model"
    else:
        memory, how = {"edu_gen": None, "textbook": None}, "not measured"
    print(f"  memory ({how}): edu_gen {fmt_mib(memory['edu_gen'])}, "
          f"textbook {fmt_mib(memory['textbook'])}")
    return theirs / ours, ours


def print_goals(results, device, size):
    """The issue's goals, as lines to read (never assertions)."""
    def verdict(ok):
        return "met" if ok else "NOT met"
    print("\ngoals:")
    if device.type == "cuda":
        if "mlp-vae" in results:
            speedup, seconds = results["mlp-vae"]
            note = "" if size == "full" else " (measured on the small data: rerun with --size full)"
            print(f"  GPU MLP VAE >= 10x and <= 0.25 s/epoch over 60,000 images: "
                  f"{speedup:.1f}x, {seconds:.3f} s -> {verdict(speedup >= 10 and seconds <= 0.25)}{note}")
        if "dcgan" in results:
            print(f"  GPU DCGAN >= 3x: {results['dcgan'][0]:.1f}x -> {verdict(results['dcgan'][0] >= 3)}")
    else:
        if "mlp-vae" in results:
            print(f"  CPU MLP VAE >= 1.2x: {results['mlp-vae'][0]:.2f}x -> "
                  f"{verdict(results['mlp-vae'][0] >= 1.2)}")
        slowest = min(results, key=lambda n: results[n][0])
        print(f"  CPU no model slower than the textbook: slowest {slowest} "
              f"{results[slowest][0]:.2f}x -> {verdict(results[slowest][0] >= 1.0)}")


def parse_args(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", nargs="+", choices=MODELS, default=list(MODELS))
    parser.add_argument("--repeats", type=int, default=5, help="timed epochs per loop")
    parser.add_argument("--warmup", type=int, default=None,
                        help="untimed epochs per loop first (default 1, 3 when compiling)")
    parser.add_argument("--size", choices=("small", "full"), default=None,
                        help="small: 4,000 digits / 8,192 ring points (default on a CPU); "
                             "full: 60,000 images / 65,536 points (default on a GPU)")
    parser.add_argument("--compile", choices=("auto", "on", "off"), default="auto",
                        help="edu_gen's compile option; auto = on for CUDA, off on a CPU "
                             "(compiling takes minutes on 2 cores, more than it saves)")
    parser.add_argument("--no-memory", dest="memory", action="store_false",
                        help="skip the per-loop memory subprocesses on the CPU")
    parser.add_argument("--memory-of", nargs=2, metavar=("MODEL", "LOOP"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")
    return args


def main(argv=None):
    args = parse_args(argv)
    device = get_device()
    args.size = args.size or ("full" if device.type == "cuda" else "small")
    if args.memory_of:
        measure_cpu_memory(*args.memory_of, args.size)
        return
    compile = args.compile == "on" or (args.compile == "auto" and device.type == "cuda")
    if args.warmup is None:
        args.warmup = 3 if compile else 1
    print(describe_machine(device, compile))
    print("reproduce: make bench  (or: " + " ".join([".venv/bin/python -m benchmarks",
                                                      *sys.argv[1:]]) + ")\n")
    results = {}
    for name in args.models:
        try:
            results[name] = benchmark(name, args, device, compile)
        except Exception as error:  # one broken model must not hide the others' figures
            print(f"{name}: FAILED ({type(error).__name__}: {str(error)[:300]})")
    if results:
        print_goals(results, device, args.size)


if __name__ == "__main__":
    main()
