"""The spoken-digits page: every audio player carries its clip, embedded in the HTML."""
import base64
import io
import re
import wave

from bs4 import BeautifulSoup

from site_pages import HTML, built_pages

PAGE = HTML / "book" / "sound" / "spoken_digits.html"
EXPECTED_PLAYERS = 40          # 4 rows of the 10 digits


def decoded_players(html):
    """(sample rate, channels, frames, peak) of each <audio> element's embedded WAV."""
    found = []
    for audio in BeautifulSoup(html, "html.parser").find_all("audio"):
        source = audio.find("source")
        src = source.get("src", "") if source else ""
        match = re.match(r"data:audio/wav;base64,(.+)", src.replace("\n", ""))
        assert match, f"a player without embedded audio: {str(audio)[:200]}"
        with wave.open(io.BytesIO(base64.b64decode(match.group(1)))) as w:
            frames = w.readframes(w.getnframes())
            samples = [int.from_bytes(frames[i:i + 2], "little", signed=True)
                       for i in range(0, len(frames), 2)]
            found.append((w.getframerate(), w.getnchannels(), w.getnframes(), max(map(abs, samples))))
    return found


def test_the_check_sees_a_player_without_audio():
    import pytest
    with pytest.raises(AssertionError, match="without embedded audio"):
        decoded_players('<audio controls><source src="clip.wav"></audio>')


def test_every_player_has_its_clip():
    built_pages()
    html = PAGE.read_text(encoding="utf-8")
    players = decoded_players(html)
    assert len(players) == EXPECTED_PLAYERS, f"{len(players)} players on {PAGE.name}"
    for rate, channels, frames, peak in players:
        assert (rate, channels, frames) == (8000, 1, 8000)
        assert peak > 1000, "a silent clip in a player"
