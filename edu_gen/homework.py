"""Trained weights that a homework notebook hands to its grader.

The grader never reruns a training cell (otter's tag ``otter_ignore``): training takes
minutes, scoring seconds. So the training cell ends with ``keep_weights``, which shows the
trained weights (as float16) and the budget the run spent (optimizer steps, or epochs) as the
cell's output, and the saved ``.ipynb`` carries them to the grader. The grader reads them back
with ``kept_weights`` and recomputes every figure from them: a figure typed into the notebook
counts for nothing, and a slow machine costs nothing but time.
"""
import base64
import io
import json
import zlib
from pathlib import Path

import torch

MIME = "application/vnd.edu-gen.weights"
HALF_MAX = 6e4   # float16 overflows above 65,504: larger tensors stay float32


class NoWeightsError(ValueError):
    """The notebook holds no usable weights for a question: the message says what to do."""


def optimizer_steps(optimizer):
    """The updates ``optimizer`` has made, read from its own state (Adam counts them)."""
    steps = [int(state["step"]) for state in optimizer.state.values() if "step" in state]
    if not steps:
        raise ValueError("the optimizer's state holds no step count: it has made no step yet, "
                         "or it keeps none (SGD): train with torch.optim.Adam")
    return max(steps)


def _compact(state):
    """``state`` with its floating-point tensors in float16 where they fit."""
    return {key: value.detach().cpu().half()
            if value.is_floating_point() and (value.numel() == 0 or value.abs().max() < HALF_MAX) else value.detach().cpu()
            for key, value in state.items()}


def encode(question, models, **counts):
    """The text that carries ``models`` ({name: nn.Module}) and ``counts`` (steps or epochs
    spent, JSON numbers) for ``question``: zlib-compressed ``torch.save``, in base64."""
    payload = {"question": question, "counts": json.loads(json.dumps(counts)),
               "models": {name: {"state": _compact(model.state_dict()),
                                 "config": json.loads(json.dumps(getattr(model, "config", None)))}
                          for name, model in models.items()}}
    buffer = io.BytesIO()
    torch.save(payload, buffer)
    return base64.b64encode(zlib.compress(buffer.getvalue(), 6)).decode("ascii")


def decode(text):
    """What ``encode`` wrote: {"question", "counts", "models": {name: {"state", "config"}}}.
    Loaded with ``weights_only=True``: a submitted file cannot run code in the grader."""
    try:
        raw = zlib.decompress(base64.b64decode(text, validate=True))
        return torch.load(io.BytesIO(raw), weights_only=True)
    except Exception:
        raise NoWeightsError("these are not weights written by keep_weights (the text is cut, altered "
                             "or of another kind): rerun the training cell rather than editing its "
                             "output") from None


def keep_weights(question, models, **counts):
    """Show ``models`` ({name: nn.Module}) and ``counts`` as this cell's output, so that the saved
    notebook carries them to the grader; returns the same text (``kept_weights`` reads it)."""
    text = encode(question, models, **counts)
    numbers = sum(p.numel() for model in models.values() for p in model.state_dict().values())
    summary = (f"{question}: the weights of {', '.join(models)} ({numbers:,} numbers; {counts}) are "
               "kept in this output for the grader: save the notebook with its outputs")
    try:
        from IPython.display import display
        display({"text/plain": summary, MIME: text}, raw=True, metadata={MIME: {"question": question}})
    except ImportError:
        print(summary)
    return text


def _saved_text(question, notebook):
    """The last output of a saved notebook that carries weights for ``question``."""
    path = Path(notebook) if notebook else None
    if path is None or not path.is_file():
        found = sorted(Path.cwd().glob("*.ipynb"))
        path = found[0] if len(found) == 1 else None
    if path is None:
        raise NoWeightsError(f"no trained weights for {question}: run its training cell (it ends with "
                             "keep_weights) in this session; for grading, save the notebook with its outputs")
    texts = [output["data"][MIME] for cell in json.loads(path.read_text()).get("cells", [])
             for output in cell.get("outputs", [])
             if MIME in output.get("data", {})
             and output.get("metadata", {}).get(MIME, {}).get("question") == question]
    if not texts:
        raise NoWeightsError(f"{path.name} holds no trained weights for {question}: run the training "
                             "cell of the question (it ends with keep_weights) and save the notebook "
                             "with its outputs (typed figures are not graded)")
    return "".join(texts[-1])


def kept_weights(question, text=None, notebook=None):
    """The weights kept for ``question``: from ``text`` (what ``keep_weights`` returned in this
    session) or else from the outputs of the saved ``notebook`` (the only ``.ipynb`` in the
    working folder when that file is not there, as when otter grades it)."""
    kept = decode(text if isinstance(text, str) else _saved_text(question, notebook))
    if kept.get("question") != question:
        raise NoWeightsError(f"these weights were kept for {kept.get('question')}, not for {question}")
    return kept


def load_weights(model, kept, name):
    """``model`` with the kept weights of ``name`` loaded; a clear error if they do not fit."""
    if name not in kept["models"]:
        raise NoWeightsError(f"no weights of {name!r} were kept (found {sorted(kept['models'])}): "
                             "pass it to keep_weights under that name")
    try:
        model.load_state_dict(kept["models"][name]["state"])
    except RuntimeError as e:
        lines = [l.strip() for l in str(e).strip().splitlines() if l.strip()]
        first = next((l for l in lines if l.startswith(("size mismatch", "Missing", "Unexpected"))), lines[0])
        raise NoWeightsError(f"the kept weights of {name!r} do not fit {type(model).__name__}: keep "
                             f"the sizes the question gives ({first})") from None
    return model
