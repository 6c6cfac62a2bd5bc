"""Benchmarks of edu_gen's training loops against plain textbook loops (``make bench``).

``python -m benchmarks`` times an epoch of each model's ``edu_gen`` loop and of the textbook
loop in ``benchmarks/textbook.py`` (same model, batch, seed), interleaved in one run, and
prints medians, peak memory and one line a model. ``python -m benchmarks --help`` lists
the options. The figures are reported in the book's appendix "How fast is this?".
"""
