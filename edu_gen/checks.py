"""The chapters' check cells: a claim, the measured value, the bound it must keep.

A check cell asserts what the prose says, with the tolerance of its words::

    claim("distinct Gumbel-softmax GAN samples", distinct, below=300)

prints the value, the bound and the **margin** (how far the value stood from failing),
and raises ``AssertionError`` when the bound is broken. When the environment variable
``EDU_GEN_CHECK_LOG`` names a file, every claim is also appended to it as one JSON line;
``scripts/margin_sweep.py`` runs the book over seeds and thread counts this way and
tabulates the smallest margin of every claim (the appendix *How robust are the checks?*).

With ``EDU_GEN_CHECK_SOFT=1`` a broken claim is printed and logged but does not raise, so
one calibration run measures every claim of a chapter (``margin_sweep.py --soft``); a
chapter holds only when it passes without it.

Checks that are exact by arithmetic (``torch.equal``, ``==`` on integers, sets) stay
plain ``assert`` statements: they have no margin to measure.
"""
import json
import math
import os

CHECK_LOG_ENV = "EDU_GEN_CHECK_LOG"
NOTEBOOK_ENV = "EDU_GEN_NOTEBOOK"
SOFT_ENV = "EDU_GEN_CHECK_SOFT"
BOUNDS = ("above", "at_least", "below", "at_most")


def margin(value, above=None, at_least=None, below=None, at_most=None):
    """How far ``value`` stands inside its bounds: the distance to the nearest one.

    Positive when every bound holds, zero on an inclusive bound, negative when one is broken
    (``above``/``below`` are strict: a value equal to them has margin 0 and fails).
    """
    distances = [value - b for b in (above, at_least) if b is not None]
    distances += [b - value for b in (below, at_most) if b is not None]
    if not distances:
        raise ValueError("claim() needs at least one bound: above=, at_least=, below= or at_most=")
    return min(distances)


def holds(value, above=None, at_least=None, below=None, at_most=None):
    """Whether ``value`` keeps every bound given (strict for ``above`` and ``below``)."""
    return ((above is None or value > above) and (at_least is None or value >= at_least)
            and (below is None or value < below) and (at_most is None or value <= at_most))


def claim(name, value, *, above=None, at_least=None, below=None, at_most=None):
    """Check one claim of the prose: ``value`` keeps its bounds, or ``AssertionError``.

    ``name`` says the claim in words; ``value`` is a number measured by the chapter (a
    Python or 0-d tensor/array number). Returns the value, so a cell can go on with it.
    """
    value = float(value)
    bounds = dict(above=above, at_least=at_least, below=below, at_most=at_most)
    given = {k: float(v) for k, v in bounds.items() if v is not None}
    room = margin(value, **given)
    ok = holds(value, **given) and not math.isnan(value)
    words = {"above": ">", "at_least": ">=", "below": "<", "at_most": "<="}
    rule = " and ".join(f"{words[k]} {v:.4g}" for k, v in given.items())
    _log(name, value, given, room, ok)
    print(f"{'ok' if ok else 'FAILED'}: {name} = {value:.4g} (needs {rule}; margin {room:.3g})")
    if not ok and os.environ.get(SOFT_ENV) != "1":
        raise AssertionError(f"{name}: {value:.6g} breaks its bound ({rule}); the prose that "
                             f"states it is no longer true on this run")
    return value


def _log(name, value, bounds, room, ok):
    path = os.environ.get(CHECK_LOG_ENV)
    if not path:
        return
    row = {"notebook": os.environ.get(NOTEBOOK_ENV, ""), "claim": name, "value": value,
           **bounds, "margin": room, "ok": ok}
    with open(path, "a") as f:
        f.write(json.dumps(row) + "\n")
