import os

import pytest

# Tests never wait for a network that is not there.
os.environ.setdefault("EDU_GEN_OFFLINE", "1")
os.environ.setdefault("TQDM_DISABLE", "1")


@pytest.fixture
def no_network_no_cache(tmp_path, monkeypatch):
    """An empty data folder and a download that fails, as on a fresh offline machine."""
    import edu_gen.data as data

    monkeypatch.setenv(data.DATA_DIR_ENV, str(tmp_path))

    def offline(name):
        raise OSError("network simulated away")

    monkeypatch.setattr(data, "_download", offline)
    return tmp_path
