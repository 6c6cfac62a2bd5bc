"""Listening in the page: clips as audio players beside their spectrograms.

``players(rows)`` returns an HTML table (``IPython.display.HTML``): one row per kind of
clip (real, reconstructed, generated, ...), each cell a static PNG of the clip's log-mel
picture above an ``IPython.display.Audio`` player whose WAV (16-bit, 8 kHz) is embedded
in the page as base64, so the built book plays it without a server.
"""
import base64
import html
import io

import matplotlib
import matplotlib.pyplot as plt
from IPython.display import HTML, Audio

from .sound_data import SAMPLE_RATE
from .sound_features import log_mel


def picture_png(picture):
    """A log-mel picture (1, 28, 28) as a small PNG (bytes), low frequencies at the bottom."""
    fig, ax = plt.subplots(figsize=(1.2, 1.2), dpi=80)
    ax.imshow(picture.squeeze(0).cpu().numpy(), origin="lower", cmap="magma", vmin=0, vmax=1,
              aspect="auto")
    ax.axis("off")
    fig.subplots_adjust(0, 0, 1, 1)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    return buffer.getvalue()


def player(clip):
    """The HTML of one player: IPython's Audio with the clip's WAV embedded (not rescaled)."""
    return Audio(clip.detach().cpu().numpy(), rate=SAMPLE_RATE, normalize=False)._repr_html_()


def players(rows, column_titles=None):
    """``rows``: a list of ``(title, clips (n, 8000))``; an HTML table of n cells a row."""
    with matplotlib.rc_context({"figure.max_open_warning": 0}):
        lines = ['<table class="edu-gen-players">']
        if column_titles:
            lines.append("<tr><th></th>" + "".join(f"<th>{html.escape(t)}</th>" for t in column_titles) + "</tr>")
        for title, clips in rows:
            cells = []
            for clip, picture in zip(clips, log_mel(clips, check=False)):
                png = base64.b64encode(picture_png(picture)).decode()
                cells.append(f'<td><img src="data:image/png;base64,{png}" width="96" '
                             f'alt="log-mel spectrogram"><br>{player(clip)}</td>')
            lines.append(f"<tr><th>{html.escape(title)}</th>{''.join(cells)}</tr>")
        lines.append("</table>")
    return HTML("\n".join(lines))
