"""A speech synthesizer that installs with pip: eSpeak NG through its C library.

The ``espeakng-loader`` wheel ships ``libespeak-ng`` 1.52 and its voice data; this module
speaks through the library's C API with ``ctypes`` (``espeak_Initialize`` in synchronous
mode, a synth callback that collects the 16-bit samples, ``espeak_SetVoiceByName`` and
``espeak_SetParameter`` for the voice, speed and pitch). Where the wheel is missing, the
library of Debian's ``espeak-ng`` package is used instead (optional, needs root and apt).

eSpeak NG keeps state between utterances (the pitch "flutter" of its voices runs on, and
its breath noise comes from a random generator, seeded once here): one utterance depends on every utterance the
process spoke before. ``Synthesizer`` is therefore meant for one fresh process that speaks
a fixed list in a fixed order (``edu_gen.sound_data`` runs it so), and then repeats
byte for byte.
"""
import ctypes
import ctypes.util
import sys
from pathlib import Path

import numpy as np

ESPEAK_RATE = 22_050                 # Hz: eSpeak NG always synthesizes at this rate
AUDIO_OUTPUT_SYNCHRONOUS = 2         # espeak_AUDIO_OUTPUT: return when the audio is made
POS_CHARACTER, CHARS_UTF8 = 1, 1
PARAMETER = {"rate": 1, "volume": 2, "pitch": 3}   # espeak_PARAMETER
DEBIAN_DATA = Path("/usr/lib/x86_64-linux-gnu/espeak-ng-data")
INSTALL_HINT = ("pip install espeakng-loader==0.2.4 (the book's synthesizer: it ships "
                "libespeak-ng with its voices); or, on Debian/Ubuntu as root, "
                "apt-get install espeak-ng")
_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int,
                             ctypes.c_void_p)


class SynthesizerUnavailable(RuntimeError):
    """No eSpeak NG library could be loaded; the message says what to install."""


def find_espeak():
    """``(library path, data folder, source)`` of eSpeak NG: the ``espeakng-loader`` wheel
    first, then a system library (Debian's ``espeak-ng``). Raises ``SynthesizerUnavailable``
    with the install command when neither is there."""
    try:
        import espeakng_loader
        return espeakng_loader.get_library_path(), espeakng_loader.get_data_path(), "espeakng-loader"
    except (ImportError, RuntimeError):
        pass
    system = ctypes.util.find_library("espeak-ng")
    data = next((p for p in (DEBIAN_DATA, Path("/usr/share/espeak-ng-data")) if p.is_dir()), None)
    if system and data:
        return system, str(data), "system"
    raise SynthesizerUnavailable(
        f"no speech synthesizer: the spoken-digit data is made by eSpeak NG. Install it with: "
        f"{INSTALL_HINT}   (Python: {sys.executable})")


class Synthesizer:
    """eSpeak NG in this process: ``say(text, voice, rate, pitch)`` returns int16 samples at
    22,050 Hz. ``voice`` is a language and a variant, e.g. ``"en-US+f3"``; ``rate`` in words
    per minute (80..450), ``pitch`` 0..99 (50 is the voice's own)."""

    def __init__(self):
        library, data, self.source = find_espeak()
        try:
            self.lib = ctypes.CDLL(library)
        except OSError as error:
            raise SynthesizerUnavailable(f"eSpeak NG at {library} does not load ({error}). "
                                         f"Reinstall it: {INSTALL_HINT}") from error
        self.lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        self.lib.espeak_Synth.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_uint,
                                          ctypes.c_int, ctypes.c_uint, ctypes.c_uint,
                                          ctypes.c_void_p, ctypes.c_void_p]
        self.lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        self.lib.espeak_Info.restype = ctypes.c_char_p
        self.lib.espeak_Info.argtypes = [ctypes.c_void_p]
        rate = self.lib.espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, 0, data.encode(), 0)
        if rate != ESPEAK_RATE:
            raise SynthesizerUnavailable(f"eSpeak NG did not start (espeak_Initialize returned "
                                         f"{rate}) with the data in {data}: {INSTALL_HINT}")
        self.version = self.lib.espeak_Info(None).decode()
        self._chunks = []
        self._callback = _CALLBACK(self._collect)    # kept alive as long as the library uses it
        self.lib.espeak_SetSynthCallback(self._callback)
        # the noise of breathy and whispered voices: eSpeak's own generator, and libc's
        if hasattr(self.lib, "espeak_ng_SetRandSeed"):
            self.lib.espeak_ng_SetRandSeed.argtypes = [ctypes.c_long]
            self.lib.espeak_ng_SetRandSeed(0)
        ctypes.CDLL(None).srand(0)

    def _collect(self, samples, n, events):
        if n > 0:
            self._chunks.append(np.ctypeslib.as_array(samples, shape=(n,)).copy())
        return 0                                     # 0: go on synthesizing

    def say(self, text, voice, rate=175, pitch=50):
        """``text`` spoken by ``voice`` at ``rate`` words a minute and ``pitch``: int16 (n,)."""
        if self.lib.espeak_SetVoiceByName(voice.encode()) != 0:
            raise ValueError(f"eSpeak NG has no voice {voice!r}: use a language and a variant "
                             "such as 'en-US+f3' (see espeak-ng --voices)")
        if not (80 <= rate <= 450 and 0 <= pitch <= 99):
            raise ValueError(f"rate must be 80..450 words a minute and pitch 0..99, got {rate}, {pitch}")
        self.lib.espeak_SetParameter(PARAMETER["rate"], int(rate), 0)
        self.lib.espeak_SetParameter(PARAMETER["pitch"], int(pitch), 0)
        self._chunks = []
        encoded = text.encode()
        error = self.lib.espeak_Synth(encoded, len(encoded) + 1, 0, POS_CHARACTER, 0, CHARS_UTF8,
                                      None, None)
        if error != 0:
            raise RuntimeError(f"espeak_Synth failed with error {error} on {text!r}")
        return np.concatenate(self._chunks) if self._chunks else np.zeros(0, np.int16)
