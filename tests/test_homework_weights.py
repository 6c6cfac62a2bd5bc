"""edu_gen.homework: trained weights ride in a notebook's output to the grader, and come back."""
import io
import pickle

import nbformat
import pytest
import torch
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

from edu_gen.gan import DCGANGenerator, MLPGenerator
from edu_gen.homework import (HALF_MAX, MIME, NoWeightsError, decode, encode, keep_weights,
                              kept_weights, load_weights, optimizer_steps)
from edu_gen.vae import VAE


def trained_generator():
    torch.manual_seed(0)
    generator = DCGANGenerator(latent_dim=8, ngf=4)
    generator(torch.randn(16, 8)).mean().backward()   # batch norm statistics move in train mode
    return generator


def test_round_trip_keeps_weights_to_float16_and_buffers_exactly():
    generator = trained_generator()
    kept = decode(encode("q7", {"generator": generator}, g_steps=750, d_steps=750))
    assert kept["question"] == "q7" and kept["counts"] == {"g_steps": 750, "d_steps": 750}
    assert kept["models"]["generator"]["config"] == generator.config
    state = kept["models"]["generator"]["state"]
    for key, value in generator.state_dict().items():
        if value.is_floating_point():
            assert state[key].dtype == torch.float16
            torch.testing.assert_close(state[key].float(), value, rtol=1e-3, atol=1e-4)
        else:   # num_batches_tracked: an integer, exact
            assert torch.equal(state[key], value)
    copy = load_weights(DCGANGenerator(latent_dim=8, ngf=4), kept, "generator").eval()
    z = torch.randn(5, 8)
    torch.testing.assert_close(copy(z), generator.eval()(z), rtol=0, atol=5e-3)


def test_values_beyond_float16_stay_float32():
    model = torch.nn.Linear(2, 2)
    with torch.no_grad():
        model.weight[0, 0] = 2 * HALF_MAX
    state = decode(encode("q1", {"m": model}))["models"]["m"]["state"]
    assert state["weight"].dtype == torch.float32 and state["weight"][0, 0] == 2 * HALF_MAX
    assert state["bias"].dtype == torch.float16


def test_keep_weights_shows_them_as_an_output_that_a_saved_notebook_carries(tmp_path, monkeypatch):
    model = VAE(latent_dim=2, hidden=(8,))
    InteractiveShell.instance()   # display() as in a notebook's kernel
    with capture_output() as shown:
        text = keep_weights("q7", {"vae": model}, steps=12)
    (output,) = shown.outputs
    assert output.data[MIME] == text and "save the notebook with its outputs" in output.data["text/plain"]
    assert output.metadata == {MIME: {"question": "q7"}}
    # the notebook as Jupyter saves it: an older run, then a newer one of the same question
    older = encode("q7", {"vae": VAE(latent_dim=2, hidden=(8,))}, steps=3)
    cell = nbformat.v4.new_code_cell("train()", outputs=[
        nbformat.v4.new_output("display_data", data={"text/plain": "old", MIME: older},
                               metadata={MIME: {"question": "q7"}}),
        nbformat.v4.new_output("display_data", data=output.data, metadata=output.metadata)])
    other = nbformat.v4.new_code_cell("train5()", outputs=[nbformat.v4.new_output(
        "display_data", data={MIME: encode("q5", {"vae": model}, steps=1)}, metadata={MIME: {"question": "q5"}})])
    nbformat.write(nbformat.v4.new_notebook(cells=[cell, other]), tmp_path / "hw.ipynb")
    kept = kept_weights("q7", None, tmp_path / "hw.ipynb")
    assert kept["counts"] == {"steps": 12}
    monkeypatch.chdir(tmp_path)   # as otter grades it: the only notebook in the working folder
    assert kept_weights("q7", None, "renamed.ipynb")["counts"] == {"steps": 12}
    assert kept_weights("q5", None)["counts"] == {"steps": 1}
    assert kept_weights("q7", text)["counts"] == {"steps": 12}   # in the session: the returned text


def test_no_weights_says_what_to_do(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(NoWeightsError, match="run its training cell"):
        kept_weights("q7", None, "hw1_vae.ipynb")
    cell = nbformat.v4.new_code_cell('vae_figures = {"neg_elbo": 106.9}')   # typed figures only
    nbformat.write(nbformat.v4.new_notebook(cells=[cell]), tmp_path / "hw1_vae.ipynb")
    with pytest.raises(NoWeightsError, match="holds no trained weights for q7.*typed figures are not graded"):
        kept_weights("q7", None, "hw1_vae.ipynb")
    with pytest.raises(NoWeightsError, match="kept for q5, not for q7"):
        kept_weights("q7", encode("q5", {"m": torch.nn.Linear(1, 1)}))
    with pytest.raises(NoWeightsError, match="not weights written by keep_weights"):
        kept_weights("q7", "bm90IHdlaWdodHM=")


def test_a_submitted_pickle_cannot_run_code_in_the_grader():
    class Payload:
        def __reduce__(self):
            return (print, ("this ran in the grader",))
    import base64
    import zlib
    buffer = io.BytesIO()
    torch.save({"question": "q7", "counts": {}, "models": Payload()}, buffer, pickle_module=pickle)
    text = base64.b64encode(zlib.compress(buffer.getvalue())).decode()
    with pytest.raises(NoWeightsError, match="not weights written by keep_weights"):
        decode(text)


def test_weights_that_do_not_fit_name_the_sizes():
    kept = decode(encode("q5", {"generator": MLPGenerator(2, (2,), hidden=16, layers=2)}, g_steps=1))
    with pytest.raises(NoWeightsError, match=r"do not fit MLPGenerator: keep the sizes the question gives \(size mismatch for net"):
        load_weights(MLPGenerator(2, (2,), hidden=32, layers=2), kept, "generator")
    with pytest.raises(NoWeightsError, match="no weights of 'vae' were kept"):
        load_weights(VAE(), kept, "vae")
    rebuilt = load_weights(MLPGenerator(**kept["models"]["generator"]["config"]), kept, "generator")
    assert rebuilt.config["hidden"] == 16


def test_optimizer_steps_reads_adams_own_count():
    model = torch.nn.Linear(3, 1)
    adam = torch.optim.Adam(model.parameters(), lr=0.1)
    with pytest.raises(ValueError, match="no step count"):
        optimizer_steps(adam)
    for _ in range(3):
        adam.zero_grad()
        model(torch.randn(4, 3)).sum().backward()
        adam.step()
    assert optimizer_steps(adam) == 3
    sgd = torch.optim.SGD(model.parameters(), lr=0.1)
    sgd.step()
    with pytest.raises(ValueError, match="train with torch.optim.Adam"):
        optimizer_steps(sgd)
