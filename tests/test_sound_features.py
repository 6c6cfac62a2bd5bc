"""edu_gen.sound_features against independent oracles: librosa's STFT, mel filterbank and
Griffin-Lim, closed forms of a sine, and planted bugs (the wrong hop, the log of 0)."""
import math

import numpy as np
import pytest
import torch

from edu_gen import sound_features as sf
from edu_gen.sound_data import CLIP_SAMPLES, SAMPLE_RATE

librosa = pytest.importorskip("librosa")

WINDOW_SUM = sf.N_FFT / 2          # the sum of a periodic Hann window of N_FFT samples


def chirp(n=3, seed=0):
    """Known test signals: a rising chirp with a little noise, a decaying tone, a click train."""
    t = torch.arange(CLIP_SAMPLES, dtype=torch.float64) / SAMPLE_RATE
    rng = torch.Generator().manual_seed(seed)
    clips = [0.5 * torch.sin(2 * math.pi * (200 * t + 1500 * t ** 2)) + 0.01 * torch.randn(len(t), generator=rng, dtype=torch.float64),
             0.8 * torch.exp(-3 * t) * torch.sin(2 * math.pi * 440 * t),
             (torch.arange(CLIP_SAMPLES) % 400 == 0).double() * 0.9]
    return torch.stack(clips[:n]).float()


def librosa_log_mel(x, hop=sf.HOP):
    """The picture of Eq. (log-mel) built from librosa's pieces only."""
    power = np.abs(librosa.stft(x, n_fft=sf.N_FFT, hop_length=hop, window="hann", center=True,
                                pad_mode="constant") / WINDOW_SUM) ** 2
    fb = librosa.filters.mel(sr=SAMPLE_RATE, n_fft=sf.N_FFT, n_mels=sf.N_MELS, fmin=0,
                             fmax=SAMPLE_RATE / 2, htk=True, norm=None)
    db = 10 * np.log10(np.maximum(fb @ power, sf.AMIN))
    low, high = sf.DB_RANGE
    return np.clip((db - low) / (high - low), 0, 1)[:, None]


def matches_oracle(pictures, oracle):
    return pictures.shape == oracle.shape and np.abs(pictures - oracle).max() < 1e-4


def test_stft_matches_librosa():
    x = chirp()
    ours = sf.stft(x).numpy()
    theirs = librosa.stft(x.numpy(), n_fft=sf.N_FFT, hop_length=sf.HOP, window="hann",
                          center=True, pad_mode="constant") / WINDOW_SUM
    assert ours.shape == theirs.shape == (3, 289, sf.N_FRAMES) and sf.N_FRAMES == 28
    np.testing.assert_allclose(ours, theirs, atol=2e-6)


def test_a_sine_of_amplitude_a_peaks_at_a_over_2_in_its_bin():
    """Closed form: a sine at a bin's centre frequency, amplitude a, has |X| = a / 2 there."""
    f = 72 * SAMPLE_RATE / sf.N_FFT                      # bin 72 (1000 Hz)
    t = torch.arange(CLIP_SAMPLES) / SAMPLE_RATE
    magnitude = sf.stft((0.6 * torch.sin(2 * math.pi * f * t))[None]).abs()[0]
    inner = magnitude[:, 2:-2]                            # frames away from the zero padding
    assert (inner.argmax(0) == 72).all()
    torch.testing.assert_close(inner[72], torch.full_like(inner[72], 0.3), atol=1e-4, rtol=0)


def test_istft_inverts_stft():
    x = chirp()
    torch.testing.assert_close(sf.istft(sf.stft(x)), x, atol=1e-5, rtol=0)


def test_mel_scale_and_filterbank_match_librosa():
    f = torch.tensor([0.0, 100.0, 700.0, 1000.0, 3999.0])
    np.testing.assert_allclose(sf.hz_to_mel(f).numpy(), librosa.hz_to_mel(f.double().numpy(), htk=True), rtol=1e-9)
    np.testing.assert_allclose(sf.mel_to_hz(sf.hz_to_mel(f)).numpy(), f.numpy(), atol=1e-9)
    theirs = librosa.filters.mel(sr=SAMPLE_RATE, n_fft=sf.N_FFT, n_mels=sf.N_MELS, fmin=0,
                                 fmax=SAMPLE_RATE / 2, htk=True, norm=None)
    ours = sf.mel_filterbank()
    assert ours.shape == theirs.shape == (28, 289)
    np.testing.assert_allclose(ours.numpy(), theirs, atol=1e-5)


def test_log_mel_matches_librosa_pipeline():
    x = chirp()
    pictures = sf.log_mel(x)
    assert pictures.shape == (3, 1, 28, 28) and pictures.min() >= 0 and pictures.max() <= 1
    assert matches_oracle(pictures.numpy(), librosa_log_mel(x.numpy()))


def test_planted_wrong_hop_is_caught():
    """A picture made with hop 256 instead of 288 does not pass the oracle comparison."""
    x = chirp()
    oracle = librosa_log_mel(x.numpy())
    power = sf.stft(x, hop=256).abs() ** 2
    planted = ((10 * torch.log10((sf.mel_filterbank() @ power).clamp(min=sf.AMIN)) + 90) / 80).clamp(0, 1)
    assert not matches_oracle(planted.unsqueeze(1).numpy(), oracle)


def test_silence_has_a_finite_picture_and_the_planted_log_of_zero_is_caught(monkeypatch):
    silence = torch.zeros(2, CLIP_SAMPLES)
    pictures = sf.log_mel(silence, check=False)
    assert torch.isfinite(pictures).all() and (pictures == 0).all()
    # without the floor, log10(0) = -inf reaches the picture: (-inf - low) / 80 -> -inf
    monkeypatch.setattr(sf, "AMIN", 0.0)
    db = 10 * torch.log10((sf.mel_filterbank() @ sf.stft(silence).abs() ** 2).clamp(min=sf.AMIN))
    assert torch.isinf(db).any()


def test_mel_to_magnitude_returns_to_the_same_picture():
    x = chirp()
    pictures = sf.log_mel(x)
    magnitude = sf.mel_to_magnitude(pictures)
    assert magnitude.shape == (3, 289, 28) and (magnitude >= 0).all()
    again = ((10 * torch.log10((sf.mel_filterbank() @ magnitude ** 2).clamp(min=sf.AMIN)) + 90) / 80).clamp(0, 1)
    # where the picture has sound (> 0.25, above -70 dB) most bands come back within 1 dB;
    # setting the least-squares powers' negative values to 0 costs about 3 dB on average
    error = (again - pictures.squeeze(1))[pictures.squeeze(1) > 0.25].abs()
    assert error.median() < 1 / 80 and error.mean() < 4 / 80


def test_griffin_lim_matches_librosa_from_zero_phase():
    magnitude = sf.stft(chirp(2)).abs()
    for momentum in (0.0, 0.99):
        ours = sf.griffin_lim(magnitude, 8, momentum=momentum, init="zero")
        theirs = librosa.griffinlim((magnitude * WINDOW_SUM).numpy(), n_iter=8, hop_length=sf.HOP,
                                    n_fft=sf.N_FFT, window="hann", center=True, pad_mode="constant",
                                    momentum=momentum, init=None, length=CLIP_SAMPLES)
        np.testing.assert_allclose(ours.numpy(), theirs, atol=1e-4)


def test_griffin_lim_spectral_convergence_falls_with_iterations():
    magnitude = sf.stft(chirp()).abs()
    history = []
    sf.griffin_lim(magnitude, 40, momentum=0.0, generator=torch.Generator().manual_seed(0),
                   history=history)
    assert len(history) == 40
    assert all(b <= a + 1e-5 for a, b in zip(history, history[1:])), history   # never rises
    assert history[-1] < 0.6 * history[0]
    fast = []
    sf.griffin_lim(magnitude, 40, generator=torch.Generator().manual_seed(0), history=fast)
    assert fast[-1] < history[-1]        # the momentum of fast Griffin-Lim gets further


def test_spectral_convergence_closed_form():
    target = torch.ones(1, 4, 4)
    assert sf.spectral_convergence(target, target) == 0
    assert sf.spectral_convergence(target, 0.5 * target) == pytest.approx(0.5)


def test_to_waveform_gives_clips_the_checks_accept():
    clips = sf.to_waveform(sf.log_mel(chirp()), 8, generator=torch.Generator().manual_seed(0))
    sf.check_clips(clips)
    torch.testing.assert_close(clips.abs().amax(1), torch.full((3,), 0.9))


def test_griffin_lim_rejects_bad_settings():
    magnitude = sf.stft(chirp(1)).abs()
    with pytest.raises(ValueError, match="momentum"):
        sf.griffin_lim(magnitude, 2, momentum=1.0)
    with pytest.raises(ValueError, match="init"):
        sf.griffin_lim(magnitude, 2, init="ones")


# --- bad input -------------------------------------------------------------------------

@pytest.mark.parametrize("clips, rate, message", [
    (torch.zeros(2, CLIP_SAMPLES, dtype=torch.int16), 8000, "float tensor"),
    (np.zeros((2, CLIP_SAMPLES), np.float32), 8000, "float tensor"),
    (0.5 * torch.ones(2, 16000), 16000, "resample_poly"),
    (0.5 * torch.ones(2, 2, CLIP_SAMPLES), 8000, "stereo"),
    (0.5 * torch.ones(2, CLIP_SAMPLES, 2), 8000, "stereo"),
    (0.5 * torch.ones(CLIP_SAMPLES), 8000, "unsqueeze"),
    (0.5 * torch.ones(2, 12000), 8000, "pad with zeros or cut"),
    (0.5 * torch.ones(0, CLIP_SAMPLES), 8000, "empty"),
    (torch.full((2, CLIP_SAMPLES), float("nan")), 8000, "NaN"),
    (2.0 * torch.ones(2, CLIP_SAMPLES), 8000, "32768"),
    (torch.zeros(2, CLIP_SAMPLES), 8000, "silent"),
])
def test_bad_clips_get_clear_errors(clips, rate, message):
    with pytest.raises(ValueError, match=message):
        sf.log_mel(clips, sample_rate=rate)


def test_a_quiet_but_audible_clip_is_not_silence():
    clip = chirp(1) * (2 * sf.SILENCE_PEAK / 0.51)
    sf.check_clips(clip)
