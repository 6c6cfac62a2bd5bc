"""From a waveform to a picture of it and back: the STFT, the mel scale, Griffin-Lim.

A clip x (8,000 samples, 1 s at 8 kHz) is cut into frames of n = 576 samples (72 ms), one
every h = 288 samples (hop), each weighted by a Hann window w; the short-time Fourier
transform (Eq. (stft)) keeps 289 frequencies of each of 28 frames:

    X[f, t] = sum_n w[n] x[t h + n] exp(-2 pi i f n / N)

The book's picture of a clip is its log-mel spectrogram (Eq. (log-mel)): the power |X|^2
summed in 28 triangular bands equally spaced in mel (m = 2595 log10(1 + f / 700), the HTK
formula), in decibels, floored at 1e-10 (never the log of 0), and mapped from
[-90 dB, -10 dB] to [0, 1]: a 28 x 28 image, the size of an MNIST digit.

The picture keeps |X| (blurred by the bands) and drops the phase of X. Griffin-Lim
(Eq. (griffin-lim)) finds a waveform whose STFT magnitude is close to a given one by
alternating projections: give the magnitude the phase of the STFT of the current waveform,
invert, repeat.
"""
import math

import torch

from .sound_data import CLIP_SAMPLES, SAMPLE_RATE

N_FFT = 576                 # samples a frame (72 ms at 8 kHz)
HOP = 288                   # samples between frames (36 ms): half a frame
N_MELS = 28
N_FRAMES = 1 + CLIP_SAMPLES // HOP   # 28 with centred frames
AMIN = 1e-10                # the power floor before the log: -100 dB
DB_RANGE = (-90.0, -10.0)   # dB mapped to [0, 1]
SILENCE_PEAK = 1e-3         # a clip quieter than this everywhere (-60 dB) is silence


def check_clips(clips, sample_rate=SAMPLE_RATE, name="clips"):
    """Raise a ValueError that says what to do unless ``clips`` is a float tensor (N, 8000)
    of 1 s mono clips at 8 kHz in [-1, 1], finite and not silent."""
    if not torch.is_tensor(clips) or not clips.is_floating_point():
        raise ValueError(f"{name} must be a float tensor (N, {CLIP_SAMPLES}) in [-1, 1], got "
                         f"{type(clips).__name__} {getattr(clips, 'dtype', '')}: for int16 "
                         "samples use torch.from_numpy(x).float() / 32768")
    if sample_rate != SAMPLE_RATE:
        raise ValueError(f"{name} are at {sample_rate} Hz; the book's clips are {SAMPLE_RATE} Hz: "
                         f"resample first, e.g. scipy.signal.resample_poly(x, {SAMPLE_RATE}, "
                         f"{sample_rate})")
    if clips.dim() == 3 and 2 in clips.shape[1:]:
        raise ValueError(f"{name} have shape {tuple(clips.shape)}: stereo. Mix them to mono "
                         "first (the mean of the two channels)")
    if clips.dim() == 1:
        raise ValueError(f"{name} have shape {tuple(clips.shape)}: one clip? Pass a batch, "
                         "clip.unsqueeze(0)")
    if clips.dim() != 2 or clips.shape[1] != CLIP_SAMPLES:
        raise ValueError(f"{name} must have shape (N, {CLIP_SAMPLES}) (1 s at {SAMPLE_RATE} Hz), "
                         f"got {tuple(clips.shape)}: pad with zeros or cut to {CLIP_SAMPLES} samples")
    if len(clips) == 0:
        raise ValueError(f"{name} is empty: pass at least one clip")
    if not torch.isfinite(clips).all():
        bad = int((~torch.isfinite(clips)).any(1).sum())
        raise ValueError(f"{bad} of the {len(clips)} {name} contain NaN or infinite samples: "
                         "the model or the inversion that made them diverged")
    peak = clips.abs().amax(1)
    if peak.max() > 1:
        raise ValueError(f"{name} reach {peak.max():.3g}; samples must lie in [-1, 1] (divide "
                         "int16 samples by 32768)")
    if (peak < SILENCE_PEAK).any():
        silent = (peak < SILENCE_PEAK).nonzero().flatten().tolist()
        raise ValueError(f"{name} {silent[:10]} are silent (peak below {SILENCE_PEAK:g}): no "
                         "digit can be heard in them. A generator that makes silence has "
                         "collapsed; look at its spectrograms")


def hann(device=None):
    return torch.hann_window(N_FFT, periodic=True, device=device)


def stft(clips, hop=HOP):
    """The STFT of Eq. (stft), divided by the window's sum (so a sine of amplitude a shows
    a peak of a / 2): complex (N, 289, frames), frames centred on multiples of ``hop``
    (zero padding at the ends)."""
    window = hann(clips.device)
    return torch.stft(clips, N_FFT, hop, window=window, center=True, pad_mode="constant",
                      return_complex=True) / window.sum()


def istft(spectrum, hop=HOP, length=CLIP_SAMPLES):
    """The inverse of ``stft`` (overlap-add with the window): waveforms (N, length)."""
    window = hann(spectrum.device)
    return torch.istft(spectrum * window.sum(), N_FFT, hop, window=window, center=True,
                       length=length)


def hz_to_mel(f):
    """The HTK mel scale: m = 2595 log10(1 + f / 700)."""
    return 2595 * torch.log10(1 + torch.as_tensor(f, dtype=torch.float64) / 700)


def mel_to_hz(m):
    return 700 * (10 ** (torch.as_tensor(m, dtype=torch.float64) / 2595) - 1)


def mel_filterbank(n_mels=N_MELS, n_fft=N_FFT, sample_rate=SAMPLE_RATE, device=None):
    """Triangular filters (n_mels, n_fft // 2 + 1) with peaks of 1, centred at n_mels points
    equally spaced in mel between 0 Hz and the Nyquist frequency, each reaching down to 0 at
    its neighbours' centres (Eq. (log-mel))."""
    edges = mel_to_hz(torch.linspace(0, float(hz_to_mel(sample_rate / 2)), n_mels + 2))
    freqs = torch.linspace(0, sample_rate / 2, n_fft // 2 + 1, dtype=torch.float64)
    lower, centre, upper = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    rising = (freqs - lower) / (centre - lower)
    falling = (upper - freqs) / (upper - centre)
    return torch.minimum(rising, falling).clamp(min=0).float().to(device)


def log_mel(clips, sample_rate=SAMPLE_RATE, check=True):
    """The picture of each clip: the log-mel spectrogram of Eq. (log-mel) mapped to [0, 1],
    images (N, 1, 28, 28) (mel bands up the rows, low frequencies at row 0; frames along).

    ``check=False`` skips ``check_clips`` (for silent clips, whose picture is all 0)."""
    if check:
        check_clips(clips, sample_rate)
    power = stft(clips.float()).abs() ** 2                         # |X|^2, (N, 289, 28)
    mel = mel_filterbank(device=clips.device) @ power              # (N, 28, 28)
    db = 10 * torch.log10(mel.clamp(min=AMIN))                     # never log(0)
    low, high = DB_RANGE
    return ((db - low) / (high - low)).clamp(0, 1).unsqueeze(1)


def mel_to_magnitude(images):
    """The inverse of ``log_mel`` up to the bands: images (N, 1, 28, 28) in [0, 1] -> STFT
    magnitudes (N, 289, 28). Decibels back to band powers, then the least-squares powers of
    the 289 frequencies (the filterbank's pseudo-inverse, negative values set to 0)."""
    low, high = DB_RANGE
    mel = 10 ** ((images.squeeze(1).float() * (high - low) + low) / 10)
    inverse = torch.linalg.pinv(mel_filterbank(device=images.device))
    return (inverse @ mel).clamp(min=0).sqrt()


def griffin_lim(magnitude, iterations=32, momentum=0.99, generator=None, init="random",
                history=None):
    """A waveform (N, 8000) whose STFT magnitude approaches ``magnitude`` (N, 289, frames):
    Eq. (griffin-lim), started from random phases (``generator``; ``init="zero"``: all
    phases 0), with the "fast" momentum of Perraudin et al. 2013 (0 gives the original
    algorithm, whose spectral convergence never rises). ``history``: a list that receives
    the spectral convergence of each iteration's projection."""
    if not 0 <= momentum < 1:
        raise ValueError(f"momentum must be in [0, 1), got {momentum}")
    if init not in ("random", "zero"):
        raise ValueError(f"init must be 'random' or 'zero', got {init!r}")
    phase = torch.zeros_like(magnitude)
    if init == "random":
        phase = torch.rand(magnitude.shape, generator=generator, device=magnitude.device) * 2 * math.pi
    angles = torch.polar(torch.ones_like(magnitude), phase)
    previous = torch.zeros_like(angles)
    for _ in range(iterations):
        rebuilt = stft(istft(magnitude * angles))               # project: consistent spectra
        if history is not None:
            history.append(spectral_convergence(magnitude, rebuilt.abs()))
        accelerated = rebuilt - momentum / (1 + momentum) * previous
        previous = rebuilt
        angles = accelerated / accelerated.abs().clamp(min=1e-16)  # keep the phase, |.| = 1
    return istft(magnitude * angles)


def spectral_convergence(target, magnitude):
    """|| |S| - |X| ||_F / || |S| ||_F over the whole batch: how far a waveform's STFT
    magnitude ``magnitude`` is from the ``target`` (0: equal)."""
    return float(torch.linalg.vector_norm(target - magnitude) / torch.linalg.vector_norm(target))


def to_waveform(images, iterations=32, generator=None):
    """Pictures (N, 1, 28, 28) in [0, 1] -> clips (N, 8000): ``mel_to_magnitude``, then
    ``griffin_lim``; each clip scaled to a peak of 0.9, as the real clips are."""
    clips = griffin_lim(mel_to_magnitude(images), iterations, generator=generator)
    peak = clips.abs().amax(1, keepdim=True).clamp(min=1e-8)
    return 0.9 * clips / peak
